// Package pkcs11 is the PKCS#11 token.Provider, over github.com/miekg/pkcs11
// (cgo): module discovery and the crash journal, sessions, login and
// signing. Only the programs that sign (cmd/kyso, the bench) import it; the
// engine sees token.Provider.
package pkcs11

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/miekg/pkcs11"
	"github.com/rs/zerolog"

	"kyso.vn/kyso/protocol"
	"kyso.vn/kyso/token"
)

// Options configures the PKCS#11 provider.
type Options struct {
	// PolicyModules are the system policy's `modules`, tried first. They
	// act for every user of the machine, so each is loaded only when the
	// administrators own it and every folder above it (filetrust.Admins).
	PolicyModules []string
	// Modules are the user's own (config.json `modules`, `kyso tokens
	// --module`), tried next: the administrators or the user may own them.
	Modules     []string
	NoDiscovery bool // use only Modules (tests), no p11-kit or vendor search
	Log         zerolog.Logger
	// Journal is the crash journal (nil: none): modules it disabled are
	// skipped, and calls into modules are marked in it.
	Journal *Journal
	// OpenJournal, when Journal is nil, opens it once, just before the
	// first module is loaded: a process that never loads one (a host
	// answering `version`) does not read the journal nor leave a marker.
	OpenJournal func() *Journal
	// Cautious also skips modules with a crash not yet cleared: for the
	// diagnostics (doctor, status), which must not die where the agent died.
	Cautious bool
}

// Provider is the PKCS#11 token.Provider. It lists the slots anew on every call
// and opens one session per operation, so it is safe from several
// goroutines and sees tokens plugged in or pulled out without a restart.
//
// Two things are remembered between calls, both only as a shortcut that is
// checked before use: the result of module discovery (the modules it loads
// stay loaded for the process anyway), re-run when a lookup finds nothing;
// and where each certificate was last seen, so that Open goes straight to
// its slot instead of reading every token.
type Provider struct {
	o      Options
	log    zerolog.Logger
	keeper *keeper

	mu    sync.Mutex
	locks map[tokenKey]chan struct{}
	locs  map[string]certLoc // certificate id → where it was last seen

	jOnce   sync.Once
	journal *Journal // the crash journal, once first needed

	discMu   sync.Mutex
	status   []moduleStatus    // of the last discovery
	mods     []*module         // its loaded modules
	discAt   time.Time         // when it ran; zero: not yet
	reported map[string]string // module → the failure last logged
}

// New returns the PKCS#11 provider. Modules are loaded lazily, on the
// first call that needs them.
func New(o Options) *Provider {
	return &Provider{o: o, log: o.Log, keeper: newKeeper(), locks: map[tokenKey]chan struct{}{},
		locs: map[string]certLoc{}, reported: map[string]string{}}
}

var _ token.Provider = (*Provider)(nil)

// crashJournal is the crash journal, opened on first use (nil: none).
func (p *Provider) crashJournal() *Journal {
	p.jOnce.Do(func() {
		p.journal = p.o.Journal
		if p.journal == nil && p.o.OpenJournal != nil {
			p.journal = p.o.OpenJournal()
		}
	})
	return p.journal
}

// CloseJournal ends this process's marker in the crash journal, if the
// journal was opened, so that the next Kyso process has nothing of this one
// to read back; a later call into a module is not marked any more. For a
// clean exit.
func (p *Provider) CloseJournal() error {
	p.jOnce.Do(func() {}) // not opened by now: never
	return p.journal.Close()
}

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
	mk   *mark // its module's record in the crash journal (nil: none)
}

func (t slotToken) Info() token.Info {
	return token.Info{
		Label:        trimPad(t.info.Label),
		Manufacturer: trimPad(t.info.ManufacturerID),
		Model:        trimPad(t.info.Model),
		SerialNumber: trimPad(t.info.SerialNumber),
	}
}

// trimPad drops the blank (and, from sloppy modules, NUL) padding of
// CK_TOKEN_INFO's fixed-size fields.
func trimPad(s string) string { return strings.TrimRight(s, " \x00") }

// rediscoverEvery bounds how often a lookup that found nothing re-runs
// module discovery (a few ms of file system search): often enough that a
// driver installed while the agent runs is found at the next try, rarely
// enough that a page asking for a missing certificate in a loop does not
// turn it into a file system scan per request.
const rediscoverEvery = 3 * time.Second

// Modules reports the modules this provider uses, as of the last module
// discovery (run on the first call that needs modules).
func (p *Provider) Modules() []token.ModuleStatus {
	p.discMu.Lock()
	defer p.discMu.Unlock()
	if p.discAt.IsZero() {
		p.discoverLocked()
	}
	return statuses(p.status)
}

// loaded returns the loaded modules, running discovery on the first call.
// Once loaded a module stays loaded, so the list stays valid; only new
// modules need a new discovery (see rediscover).
func (p *Provider) loaded() []*module {
	p.discMu.Lock()
	defer p.discMu.Unlock()
	if p.discAt.IsZero() {
		p.discoverLocked()
	}
	return p.mods
}

// rediscover re-runs discovery unless it ran less than rediscoverEvery
// ago. It reports whether the set of loaded modules changed: only then can
// a second look find what the first did not.
func (p *Provider) rediscover() ([]*module, bool) {
	p.discMu.Lock()
	defer p.discMu.Unlock()
	if !p.discAt.IsZero() && timeNow().Sub(p.discAt) < rediscoverEvery {
		return p.mods, false
	}
	before := p.mods
	p.discoverLocked()
	if len(before) != len(p.mods) {
		return p.mods, true
	}
	for i := range before {
		if before[i] != p.mods[i] {
			return p.mods, true
		}
	}
	return p.mods, false
}

func (p *Provider) discoverLocked() {
	p.status = discover(p.o.PolicyModules, p.o.Modules, !p.o.NoDiscovery, p.crashJournal(), p.o.Cautious)
	p.mods = nil
	for _, st := range p.status {
		if !st.Loaded {
			p.reportFailure(st)
			continue
		}
		delete(p.reported, st.real)
		if m, err := loadModule(st.real, st.owners); err == nil {
			p.mods = append(p.mods, m)
		}
	}
	p.discAt = timeNow()
}

// reportFailure logs a module that did not load, once per failure (discovery
// re-runs every few seconds while no token is found): the module, where it
// came from, the CKR_ value when there is one, and the error. A module that
// is not there at all is not news.
func (p *Provider) reportFailure(st moduleStatus) {
	msg := errString(st.Err)
	if p.reported[st.real] == msg {
		return
	}
	p.reported[st.real] = msg
	var ce *CrashError
	switch {
	case errors.As(st.Err, &ce):
		p.log.Error().Str("module", st.Path).Str("source", st.Source).Err(st.Err).Msg("PKCS#11 module skipped: it crashed Kyso")
	case errors.Is(st.Err, fs.ErrNotExist):
		p.log.Debug().Str("module", st.Path).Str("source", st.Source).Err(st.Err).Msg("PKCS#11 module not found")
	default:
		ev := p.log.Error().Str("module", st.Path).Str("source", st.Source)
		if ckr := CKR(st.Err); ckr != "" {
			ev = ev.Str("ckr", ckr)
		}
		ev.Err(st.Err).Msg("PKCS#11 module failed to load; serving the others")
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// tokens lists the tokens present now, in module then slot order. When it
// finds none it re-runs discovery (rate-limited) and looks again: a driver
// may have been installed since.
func (p *Provider) tokens() ([]slotToken, error) {
	toks, err := p.scan(p.loaded())
	if err != nil {
		if mods, changed := p.rediscover(); changed {
			return p.scan(mods)
		}
	}
	return toks, err
}

// scan lists the tokens present now in mods.
func (p *Provider) scan(mods []*module) ([]slotToken, error) {
	if len(mods) == 0 {
		return nil, &token.Error{Code: protocol.NoToken, Err: errors.New("no PKCS#11 module could be loaded")}
	}
	var out []slotToken
	for _, m := range mods {
		out = p.scanModule(m, out)
	}
	p.keeper.prune(out)
	if len(out) == 0 {
		return nil, &token.Error{Code: protocol.NoToken, Err: errors.New("no token present")}
	}
	return out, nil
}

// scanModule appends the tokens present in m's slots to out.
func (p *Provider) scanModule(m *module, out []slotToken) []slotToken {
	mk := p.crashJournal().markFor(m.path)
	defer mk.enter("C_GetSlotList").leave()
	slots, err := m.ctx.GetSlotList(true)
	if err != nil {
		p.log.Warn().Str("module", m.path).Str("ckr", ckrName(err)).Msg("C_GetSlotList failed")
		return out
	}
	for _, s := range slots {
		ti, err := m.ctx.GetTokenInfo(s)
		// Pulled out between the two calls, or a blank token (SoftHSM's
		// free slot, a card never personalised): nothing to sign with.
		if err != nil || ti.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 {
			continue
		}
		out = append(out, slotToken{mod: m, slot: s, info: ti, mk: mk,
			key: tokenKey{module: m.path, slot: s, serial: trimPad(ti.SerialNumber)}})
	}
	return out
}

// TokenInfo is what `kyso tokens` shows of one present token.
type TokenInfo struct {
	Module       string
	Info         token.Info
	PIN          token.PINState
	Certificates []token.Certificate
	Err          error // reading its certificates failed
}

// Inventory lists each present token with its signing certificates.
func (p *Provider) Inventory(ctx context.Context) ([]TokenInfo, error) {
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

func certOnly(f []found) []token.Certificate {
	out := make([]token.Certificate, 0, len(f))
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
// has digitalSignature or nonRepudiation (a certificate without the key
// usage extension is not one: isSigningCert), and whose key is on the token: a
// private key, or, failing that, a public key with the same CKA_ID (tokens
// hide private keys marked CKA_PRIVATE until login). Expired certificates are
// listed too (the dialog shows their validity); valid ones come first.
func (p *Provider) Certificates(ctx context.Context) ([]token.Certificate, error) {
	// A listing is where a person looks for a token they just set up, so
	// it picks up a newly installed driver even when other tokens are
	// present (rate-limited; Open re-runs discovery only when it finds
	// nothing).
	p.rediscover()
	toks, err := p.tokens()
	if err != nil {
		return nil, err
	}
	var out []token.Certificate
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
func sortCerts(c []token.Certificate) {
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
	cert  token.Certificate
	ckaID []byte
	obj   pkcs11.ObjectHandle // the certificate object, when last seen
}

// readToken reads the certificates of one token in a short R/O session.
func (p *Provider) readToken(t slotToken) ([]found, error) {
	defer t.mk.enter("C_FindObjects").leave()
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
		obj  pkcs11.ObjectHandle
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
		all = append(all, raw{id: a[1].Value, cert: cert, obj: o})
	}
	info := t.Info()
	var out []found
	defer func() { p.remember(t, out) }()
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
		out = append(out, found{cert: token.Certificate{ID: token.CertID(r.cert.Raw), Cert: r.cert, Token: info, Chain: chain}, ckaID: r.id, obj: r.obj})
	}
	return out, nil
}

// isSigningCert: an end-entity certificate whose key usage says it signs:
// digitalSignature or nonRepudiation. CA certificates are the chain, not
// signing certificates, even when their key is present. A certificate
// without the keyUsage extension is not offered either, although RFC 5280
// reads that as "no restriction": the CAs of Vietnam's signing tokens
// always set it (digitalSignature, nonRepudiation), so a certificate
// without it is a TLS, VPN or home-made one, whose key a page must not
// get signatures from (issue 16, finding 10; docs/tokens.md).
func isSigningCert(c *x509.Certificate) bool {
	if c.BasicConstraintsValid && c.IsCA {
		return false
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
func (p *Provider) goneFunc(t slotToken) func() bool {
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
//
// It first tries where the certificate was last seen (openAt); when that
// place no longer holds it, it reads every present token, and when that
// finds nothing it re-runs module discovery (rate-limited) and reads the
// tokens of any new module.
func (p *Provider) Open(ctx context.Context, id string) (token.Key, error) {
	id = strings.ToLower(id)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if loc, ok := p.location(id); ok {
		k, err := p.openAt(loc, id)
		if err == nil {
			return k, nil
		}
		p.forget(id)
		p.log.Debug().Str("cert", shortID(id)).Err(err).Msg("certificate moved: reading every token")
	}
	k, err := p.openScan(ctx, id, p.loaded())
	if code := codeOf(err); code == protocol.CertificateNotFound || code == protocol.NoToken {
		if mods, changed := p.rediscover(); changed {
			return p.openScan(ctx, id, mods)
		}
	}
	return k, err
}

func codeOf(err error) protocol.Code {
	var e *token.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// openScan reads the certificates of every present token of mods to find id.
func (p *Provider) openScan(ctx context.Context, id string, mods []*module) (token.Key, error) {
	toks, err := p.scan(mods)
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
	return nil, &token.Error{Code: protocol.CertificateNotFound, Err: fmt.Errorf("certificate %s is on no present token", shortID(id))}
}

// certLoc is where a signing certificate was last seen.
type certLoc struct {
	tok slotToken
	f   found
}

// maxLocs bounds the remembered locations: tokens come and go, and an
// entry of a token gone for good is dropped only when looked up.
const maxLocs = 512

// remember records where the signing certificates of t are, replacing
// what was remembered of t.
func (p *Provider) remember(t slotToken, certs []found) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, l := range p.locs {
		if l.tok.key == t.key {
			delete(p.locs, id)
		}
	}
	if len(p.locs)+len(certs) > maxLocs {
		clear(p.locs)
	}
	for _, f := range certs {
		p.locs[f.cert.ID] = certLoc{tok: t, f: f}
	}
}

func (p *Provider) location(id string) (certLoc, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.locs[id]
	return l, ok
}

func (p *Provider) forget(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.locs, id)
}

// errMoved: the remembered place no longer holds the certificate.
var errMoved = errors.New("not where it was last seen")

// openAt opens the certificate id where it was last seen, checking that it
// is still there: the slot still has a token (the slot list is read, as on
// every request); it is the same token, shown either by the kept login's
// session on it being still open (a module closes a token's sessions when
// it is pulled out) or by its serial number and label; and that token has
// now a certificate object with the same CKA_ID and the same DER. The
// session opened for the check is the key's session.
func (p *Provider) openAt(l certLoc, id string) (token.Key, error) {
	t := l.tok
	defer t.mk.enter("C_OpenSession").leave()
	c := t.mod.ctx
	// A live kept session (a login kept for pinCacheSeconds) proves that
	// the token has not left its slot since that login: PKCS#11 closes all
	// sessions of a removed token. The slot list, the token's serial and
	// the certificate object need not be read again then, and reading a
	// token object is slow on some modules (SoftHSM re-reads the object's
	// file: 0.1 ms for C_GetTokenInfo or one attribute, a seventh of an
	// RSA signature).
	kept := l.f.obj != 0 && p.keeper.alive(t.key, t.slot)
	if !kept {
		slots, err := c.GetSlotList(true)
		if err != nil {
			return nil, mapErr("C_GetSlotList", err, nil)
		}
		p.keeper.pruneModule(t.mod.path, slots)
		if !slices.Contains(slots, t.slot) {
			return nil, errMoved
		}
		ti, err := c.GetTokenInfo(t.slot)
		if err != nil {
			return nil, mapErr("C_GetTokenInfo", err, nil)
		}
		if trimPad(ti.SerialNumber) != t.key.serial || ti.Label != t.info.Label || ti.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 {
			// Another token in the slot: nothing kept of the old one is valid.
			p.keeper.drop(t.key)
			return nil, errMoved
		}
		t.info = ti
	}
	sess, err := c.OpenSession(t.slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		if kept {
			return nil, errMoved // look again the slow way
		}
		return nil, mapErr("C_OpenSession", err, p.goneFunc(t))
	}
	if kept {
		return &p11Key{p: p, tok: t, cert: l.f.cert, id: l.f.ckaID, sess: sess}, nil
	}
	obj, err := p.certObject(c, sess, l.f, id)
	if err != nil || obj == 0 {
		c.CloseSession(sess)
		if err == nil {
			err = errMoved
		}
		return nil, mapErr("finding the certificate", err, p.goneFunc(t))
	}
	if obj != l.f.obj {
		l.f.obj = obj
		p.mu.Lock()
		if _, ok := p.locs[id]; ok {
			p.locs[id] = certLoc{tok: l.tok, f: l.f}
		}
		p.mu.Unlock()
	}
	return &p11Key{p: p, tok: t, cert: l.f.cert, id: l.f.ckaID, sess: sess}, nil
}

// certObject finds the object of certificate f on the session's token, 0 if
// it is not there. It first reads the object handle it was last seen under
// (handles may change when the application has no session open, and may
// be reused: the DER and CKA_ID read back decide), else searches by class,
// CKA_ID and DER (the module compares the DER: no second call to read it).
func (p *Provider) certObject(c *pkcs11.Ctx, sess pkcs11.SessionHandle, f found, id string) (pkcs11.ObjectHandle, error) {
	if f.obj != 0 {
		a, err := c.GetAttributeValue(sess, f.obj, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, nil),
			pkcs11.NewAttribute(pkcs11.CKA_ID, nil),
			pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil),
		})
		if err == nil && bytes.Equal(a[0].Value, pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE).Value) &&
			bytes.Equal(a[1].Value, f.ckaID) && token.CertID(a[2].Value) == id {
			return f.obj, nil
		}
	}
	objs, err := findObjects(c, sess, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE),
		pkcs11.NewAttribute(pkcs11.CKA_ID, f.ckaID),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, f.cert.Cert.Raw),
	})
	if err != nil || len(objs) == 0 {
		return 0, err
	}
	return objs[0], nil
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
func (p *Provider) lock(k tokenKey) chan struct{} {
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
