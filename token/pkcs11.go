package token

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/miekg/pkcs11"
	"github.com/rs/zerolog"
)

// PKCS11Options configures the PKCS#11 provider.
type PKCS11Options struct {
	Modules     []string // from the policy/config `modules`, tried first
	NoDiscovery bool     // use only Modules (tests), no p11-kit or vendor search
	Log         zerolog.Logger
}

// PKCS11 is the PKCS#11 Provider. It looks at the slots anew on every call
// and opens one session per operation, so it is safe from several
// goroutines and sees tokens plugged in or pulled out without a restart.
type PKCS11 struct {
	o      PKCS11Options
	log    zerolog.Logger
	keeper *keeper

	mu    sync.Mutex
	locks map[tokenKey]chan struct{}
}

// NewPKCS11 returns the PKCS#11 provider. Modules are loaded lazily, on the
// first call that needs them.
func NewPKCS11(o PKCS11Options) *PKCS11 {
	return &PKCS11{o: o, log: o.Log, keeper: newKeeper(), locks: map[tokenKey]chan struct{}{}}
}

var _ Provider = (*PKCS11)(nil)

// tokenKey names one token in one slot of one module. The serial number
// tells a re-inserted other token in the same slot apart.
type tokenKey struct {
	module string
	slot   uint
	serial string
}

// slotToken is a present token, as found by a scan.
type slotToken struct {
	mod  *module
	slot uint
	info pkcs11.TokenInfo
	key  tokenKey
}

func (t slotToken) Info() Info {
	return Info{
		Label:        trimPad(t.info.Label),
		Manufacturer: trimPad(t.info.ManufacturerID),
		Model:        trimPad(t.info.Model),
		SerialNumber: trimPad(t.info.SerialNumber),
	}
}

// trimPad drops the blank (and, from sloppy modules, NUL) padding of
// CK_TOKEN_INFO's fixed-size fields.
func trimPad(s string) string { return strings.TrimRight(s, " \x00") }

// Modules loads (once) and reports the modules this provider uses.
func (p *PKCS11) Modules() []ModuleStatus {
	return discover(p.o.Modules, !p.o.NoDiscovery)
}

func (p *PKCS11) loaded() []*module {
	var out []*module
	for _, st := range p.Modules() {
		if !st.Loaded {
			p.log.Debug().Str("module", st.Path).Str("source", st.Source).Err(st.Err).Msg("pkcs11 module not loaded")
			continue
		}
		if m, err := loadModule(st.real); err == nil {
			out = append(out, m)
		}
	}
	return out
}

// tokens lists the tokens present now, in module then slot order.
func (p *PKCS11) tokens() ([]slotToken, error) {
	mods := p.loaded()
	if len(mods) == 0 {
		return nil, &Error{Code: CodeNoToken, Err: errors.New("no PKCS#11 module could be loaded")}
	}
	var out []slotToken
	for _, m := range mods {
		slots, err := m.ctx.GetSlotList(true)
		if err != nil {
			p.log.Warn().Str("module", m.path).Str("ckr", ckrName(err)).Msg("C_GetSlotList failed")
			continue
		}
		for _, s := range slots {
			ti, err := m.ctx.GetTokenInfo(s)
			// Pulled out between the two calls, or a blank token (SoftHSM's
			// free slot, a card never personalised): nothing to sign with.
			if err != nil || ti.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 {
				continue
			}
			out = append(out, slotToken{mod: m, slot: s, info: ti,
				key: tokenKey{module: m.path, slot: s, serial: trimPad(ti.SerialNumber)}})
		}
	}
	p.keeper.prune(out)
	if len(out) == 0 {
		return nil, &Error{Code: CodeNoToken, Err: errors.New("no token present")}
	}
	return out, nil
}

// TokenInfo is what `kyso tokens` shows of one present token.
type TokenInfo struct {
	Module       string
	Info         Info
	PIN          PINState
	Certificates []Certificate
	Err          error // reading its certificates failed
}

// Inventory lists each present token with its signing certificates.
func (p *PKCS11) Inventory(ctx context.Context) ([]TokenInfo, error) {
	toks, err := p.tokens()
	if err != nil {
		return nil, err
	}
	var out []TokenInfo
	for _, t := range toks {
		certs, err := p.readToken(t)
		list := certOnly(certs)
		sortCerts(list)
		out = append(out, TokenInfo{Module: t.mod.path, Info: t.Info(), PIN: pinState(t.info.Flags),
			Certificates: list, Err: err})
	}
	return out, nil
}

func certOnly(f []found) []Certificate {
	out := make([]Certificate, 0, len(f))
	for _, c := range f {
		out = append(out, c.cert)
	}
	return out
}

// Certificates lists the signing certificates of every present token. It
// fails with NO_TOKEN when no module loads or no token is present; when
// tokens are present but hold no signing certificate it returns an empty
// list and no error (the engine then answers NO_CERTIFICATE).
//
// A signing certificate is an end-entity X.509 certificate whose key usage
// has digitalSignature or nonRepudiation, or that has no key usage extension
// at all (RFC 5280: no restriction), and whose key is on the token: a
// private key, or, failing that, a public key with the same CKA_ID (tokens
// hide private keys marked CKA_PRIVATE until login). Expired certificates are
// listed too (the dialog shows their validity); valid ones come first.
func (p *PKCS11) Certificates(ctx context.Context) ([]Certificate, error) {
	toks, err := p.tokens()
	if err != nil {
		return nil, err
	}
	var out []Certificate
	for _, t := range toks {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		certs, err := p.readToken(t)
		if err != nil {
			p.log.Warn().Str("token", t.Info().Label).Err(err).Msg("reading token certificates failed")
			continue
		}
		out = append(out, certOnly(certs)...)
	}
	sortCerts(out)
	return out, nil
}

// sortCerts puts currently valid certificates first, newest expiry first.
func sortCerts(c []Certificate) {
	now := timeNow()
	sort.SliceStable(c, func(i, j int) bool {
		vi := now.Before(c[i].Cert.NotAfter) && now.After(c[i].Cert.NotBefore)
		vj := now.Before(c[j].Cert.NotAfter) && now.After(c[j].Cert.NotBefore)
		if vi != vj {
			return vi
		}
		return c[i].Cert.NotAfter.After(c[j].Cert.NotAfter)
	})
}

// found is a signing certificate with the CKA_ID that links it to its key.
type found struct {
	cert  Certificate
	ckaID []byte
}

// readToken reads the certificates of one token in a short R/O session.
func (p *PKCS11) readToken(t slotToken) ([]found, error) {
	c := t.mod.ctx
	sess, err := c.OpenSession(t.slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		return nil, mapErr("C_OpenSession", err, p.goneFunc(t))
	}
	defer c.CloseSession(sess)
	objs, err := findObjects(c, sess, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE),
		pkcs11.NewAttribute(pkcs11.CKA_CERTIFICATE_TYPE, pkcs11.CKC_X_509),
	})
	if err != nil {
		return nil, mapErr("finding certificates", err, p.goneFunc(t))
	}
	keyIDs, err := keyIDs(c, sess)
	if err != nil {
		return nil, mapErr("finding keys", err, p.goneFunc(t))
	}
	type raw struct {
		id   []byte
		cert *x509.Certificate
	}
	var all []raw
	for _, o := range objs {
		a, err := c.GetAttributeValue(sess, o, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil),
			pkcs11.NewAttribute(pkcs11.CKA_ID, nil),
		})
		if err != nil {
			continue
		}
		cert, err := x509.ParseCertificate(a[0].Value)
		if err != nil {
			p.log.Debug().Err(err).Msg("skipping unparsable certificate object")
			continue
		}
		all = append(all, raw{id: a[1].Value, cert: cert})
	}
	info := t.Info()
	var out []found
	for _, r := range all {
		if !isSigningCert(r.cert) || len(r.id) == 0 || !keyIDs[string(r.id)] {
			continue
		}
		var chain [][]byte
		for _, o := range all {
			if o.cert.IsCA && o.cert.BasicConstraintsValid && !bytes.Equal(o.cert.Raw, r.cert.Raw) {
				chain = append(chain, o.cert.Raw)
			}
		}
		out = append(out, found{cert: Certificate{ID: CertID(r.cert.Raw), Cert: r.cert, Token: info, Chain: chain}, ckaID: r.id})
	}
	return out, nil
}

// CertID is the certificate id of protocol v1: lowercase hex SHA-256 of the DER.
func CertID(der []byte) string {
	s := sha256.Sum256(der)
	return hex.EncodeToString(s[:])
}

// isSigningCert: an end-entity certificate allowed to sign. CA certificates
// are the chain, not signing certificates, even when their key is present.
func isSigningCert(c *x509.Certificate) bool {
	if c.BasicConstraintsValid && c.IsCA {
		return false
	}
	if c.KeyUsage == 0 { // no key usage extension: no restriction
		return true
	}
	return c.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) != 0
}

// keyIDs returns the CKA_IDs of the private keys visible without login,
// plus those of the public keys: real tokens show private key objects
// before login, but SoftHSM (and tokens following it) hide keys with
// CKA_PRIVATE=TRUE, and then the public key with the same CKA_ID is the
// only sign that the key pair is on the token. Open finds the private key
// itself after login.
func keyIDs(c *pkcs11.Ctx, sess pkcs11.SessionHandle) (map[string]bool, error) {
	ids := map[string]bool{}
	for _, class := range []uint{pkcs11.CKO_PRIVATE_KEY, pkcs11.CKO_PUBLIC_KEY} {
		objs, err := findObjects(c, sess, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, class)})
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			a, err := c.GetAttributeValue(sess, o, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_ID, nil)})
			if err == nil && len(a[0].Value) > 0 {
				ids[string(a[0].Value)] = true
			}
		}
	}
	return ids, nil
}

func findObjects(c *pkcs11.Ctx, sess pkcs11.SessionHandle, tmpl []*pkcs11.Attribute) ([]pkcs11.ObjectHandle, error) {
	if err := c.FindObjectsInit(sess, tmpl); err != nil {
		return nil, err
	}
	var out []pkcs11.ObjectHandle
	for {
		objs, _, err := c.FindObjects(sess, 64)
		if err != nil {
			c.FindObjectsFinal(sess)
			return nil, err
		}
		out = append(out, objs...)
		if len(objs) < 64 {
			break
		}
	}
	return out, c.FindObjectsFinal(sess)
}

// goneFunc reports, when called, whether the token t is no longer present:
// it tells a pulled-out token from other session errors.
func (p *PKCS11) goneFunc(t slotToken) func() bool {
	return func() bool {
		si, err := t.mod.ctx.GetSlotInfo(t.slot)
		if err != nil || si.Flags&pkcs11.CKF_TOKEN_PRESENT == 0 {
			return true
		}
		ti, err := t.mod.ctx.GetTokenInfo(t.slot)
		return err != nil || trimPad(ti.SerialNumber) != t.key.serial
	}
}

// Open opens a session on the token holding certificate id. It fails with
// CERTIFICATE_NOT_FOUND when no present token holds it (NO_TOKEN when no
// token is present at all).
func (p *PKCS11) Open(ctx context.Context, id string) (Key, error) {
	id = strings.ToLower(id)
	toks, err := p.tokens()
	if err != nil {
		return nil, err
	}
	for _, t := range toks {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		certs, err := p.readToken(t)
		if err != nil {
			continue
		}
		for _, f := range certs {
			if f.cert.ID == id {
				return p.open(t, f)
			}
		}
	}
	return nil, &Error{Code: CodeCertificateNotFound, Err: fmt.Errorf("certificate %s is on no present token", shortID(id))}
}

func shortID(id string) string {
	if len(id) > 16 {
		return id[:16] + "…"
	}
	return id
}

// lock returns the token's operation lock: login state is per token, not per
// session, so the steps from a login (or the use of a kept login) to the
// end of the operation must not interleave with another operation's
// login or logout on the same token.
func (p *PKCS11) lock(k tokenKey) chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.locks[k]
	if !ok {
		l = make(chan struct{}, 1)
		p.locks[k] = l
	}
	return l
}

var timeNow = time.Now
