package engine

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"kyso.vn/kyso/prompt"
	"kyso.vn/kyso/protocol"
	"kyso.vn/kyso/token"
)

type signatureAlgorithm struct {
	Scheme       token.Scheme   `json:"scheme"`
	HashFunction token.HashFunc `json:"hashFunction"`
}

type certificateResult struct {
	Certificate         string               `json:"certificate"`
	CertificateID       string               `json:"certificateId"`
	Subject             string               `json:"subject"`
	Issuer              string               `json:"issuer"`
	SerialNumber        string               `json:"serialNumber"`
	NotBefore           string               `json:"notBefore"`
	NotAfter            string               `json:"notAfter"`
	Token               token.Info           `json:"token"`
	SignatureAlgorithms []signatureAlgorithm `json:"signatureAlgorithms"`
	Chain               []string             `json:"chain"`
}

type signResult struct {
	Signature    string         `json:"signature"`
	Scheme       token.Scheme   `json:"scheme"`
	HashFunction token.HashFunc `json:"hashFunction"`
}

type signBatchResult struct {
	Signatures   []string       `json:"signatures"`
	Scheme       token.Scheme   `json:"scheme"`
	HashFunction token.HashFunc `json:"hashFunction"`
}

var allHashes = []token.HashFunc{token.SHA224, token.SHA256, token.SHA384, token.SHA512,
	token.SHA3_256, token.SHA3_384, token.SHA3_512}

// schemesFor lists the schemes a key type can sign with, the default first.
func schemesFor(c *x509.Certificate) []token.Scheme {
	switch c.PublicKey.(type) {
	case *rsa.PublicKey:
		return []token.Scheme{token.PKCS1v15, token.PSS}
	case *ecdsa.PublicKey:
		return []token.Scheme{token.ECDSA}
	}
	return nil
}

// signatureAlgorithms is what the token layer can do with the key: every
// protocol hash function with each scheme of the key type.
func signatureAlgorithms(c *x509.Certificate) []signatureAlgorithm {
	out := []signatureAlgorithm{}
	for _, s := range schemesFor(c) {
		for _, h := range allHashes {
			out = append(out, signatureAlgorithm{s, h})
		}
	}
	return out
}

// pickScheme checks the requested scheme against the key type, before any
// dialog, and fills in the default.
func pickScheme(c *x509.Certificate, want token.Scheme) (token.Scheme, error) {
	schemes := schemesFor(c)
	if len(schemes) == 0 {
		return "", fail(protocol.UnsupportedAlgorithm, "key type")
	}
	if want == "" {
		return schemes[0], nil
	}
	for _, s := range schemes {
		if s == want {
			return s, nil
		}
	}
	return "", fail(protocol.UnsupportedAlgorithm, string(want))
}

func holder(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return c.Subject.CommonName
	}
	return c.Subject.String()
}

func issuerName(c *x509.Certificate) string {
	if c.Issuer.CommonName != "" {
		return c.Issuer.CommonName
	}
	return c.Issuer.String()
}

func (e *Engine) getCertificate(ctx context.Context, op *operation, issuer string, rec *logRec) (any, error) {
	all, err := e.o.Provider.Certificates(ctx)
	if err != nil {
		return nil, err
	}
	var certs []token.Certificate
	needle := strings.ToLower(issuer)
	for _, c := range all {
		if needle == "" || strings.Contains(strings.ToLower(c.Cert.Issuer.String()), needle) {
			certs = append(certs, c)
		}
	}
	if len(certs) == 0 {
		return nil, fail(protocol.NoCertificate)
	}
	now := e.o.Now()
	choices := make([]prompt.CertChoice, len(certs))
	for i, c := range certs {
		choices[i] = prompt.CertChoice{
			Holder:   holder(c.Cert),
			Issuer:   issuerName(c.Cert),
			NotAfter: c.Cert.NotAfter,
			Expired:  now.After(c.Cert.NotAfter),
			Token:    c.Token.Label,
		}
	}
	// Always ask, even with one certificate: the page learns who the person
	// is only when the person says so.
	i, err := e.o.Prompter.PickCertificate(ctx, op.origin.String(), choices)
	if err != nil {
		return nil, op.dialog(ctx, err)
	}
	if i < 0 || i >= len(certs) {
		return nil, fmt.Errorf("prompter picked certificate %d of %d", i, len(certs))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := certs[i]
	rec.cert = c.ID
	chain := make([]string, 0, len(c.Chain))
	for _, der := range c.Chain {
		chain = append(chain, base64.StdEncoding.EncodeToString(der))
	}
	serial := "00"
	if c.Cert.SerialNumber != nil && c.Cert.SerialNumber.Sign() > 0 {
		serial = hex.EncodeToString(c.Cert.SerialNumber.Bytes())
	}
	return certificateResult{
		Certificate:         base64.StdEncoding.EncodeToString(c.Cert.Raw),
		CertificateID:       c.ID,
		Subject:             c.Cert.Subject.String(),
		Issuer:              c.Cert.Issuer.String(),
		SerialNumber:        serial,
		NotBefore:           c.Cert.NotBefore.UTC().Format(time.RFC3339),
		NotAfter:            c.Cert.NotAfter.UTC().Format(time.RFC3339),
		Token:               c.Token,
		SignatureAlgorithms: signatureAlgorithms(c.Cert),
		Chain:               chain,
	}, nil
}

// sign runs sign and signBatch: open the key, check the scheme, then the PIN
// dialog (or the PIN cache), then sign every hash, stopping as soon as ctx
// ends. An expired certificate signs like any other: the person picked it
// knowingly (the picker marks it) and the relying party judges validity.
func (e *Engine) sign(ctx context.Context, op *operation, pol *policy, job signJob) (_ any, err error) {
	key, err := e.o.Provider.Open(ctx, job.certID)
	if err != nil {
		return nil, err
	}
	var keep time.Duration
	window := time.Duration(pol.PinCacheSeconds) * time.Second
	cacheKey := op.origin.String() + "\x00" + job.certID
	defer func() {
		if err != nil {
			// A failed operation logs out and forgets the window.
			keep = 0
			e.forgetPIN(cacheKey)
		}
		if cerr := key.Close(keep); cerr != nil {
			e.o.Log.Warn().Err(cerr).Msg("closing the token session")
		}
	}()
	cert := key.Certificate()
	scheme, err := pickScheme(cert.Cert, job.scheme)
	if err != nil {
		return nil, err
	}

	pinAt, cached := e.pinFresh(cacheKey, window)
	if !(cached && key.LoggedIn()) {
		if err := e.login(ctx, op, key, cert, job); err != nil {
			return nil, err
		}
		pinAt = e.o.Now()
		if window > 0 {
			e.rememberPIN(cacheKey, pinAt)
		}
	}

	sigs := make([]string, 0, len(job.hashes))
	for _, h := range job.hashes {
		// Nothing is signed once the connection closed or the time is up.
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sig, err := key.Sign(ctx, h, job.hashFunc, scheme)
		if err != nil {
			return nil, err
		}
		sigs = append(sigs, base64.StdEncoding.EncodeToString(sig))
	}
	if window > 0 {
		// The token stays logged in only until the window opened by the
		// PIN ends, not for a fresh window after each use.
		keep = window - e.o.Now().Sub(pinAt)
	}
	if job.batch {
		return signBatchResult{Signatures: sigs, Scheme: scheme, HashFunction: job.hashFunc}, nil
	}
	return signResult{Signature: sigs[0], Scheme: scheme, HashFunction: job.hashFunc}, nil
}

// login asks for the PIN until the token takes it. A wrong PIN reopens the
// dialog with Retry and the tries-left flags; it is never retried
// automatically. The PIN bytes are wiped right after the Login call.
func (e *Engine) login(ctx context.Context, op *operation, key token.Key, cert token.Certificate, job signJob) error {
	st, err := key.PINState()
	if err != nil {
		return err
	}
	retry := false
	for {
		if st.Locked {
			return fail(protocol.PINLocked)
		}
		pin, err := e.o.Prompter.PIN(ctx, prompt.PINRequest{
			Origin:      op.origin.String(),
			Holder:      holder(cert.Cert),
			Token:       cert.Token.Label,
			Description: job.description,
			Count:       len(job.hashes),
			Retry:       retry,
			CountLow:    st.CountLow,
			FinalTry:    st.FinalTry,
		})
		if err != nil {
			wipe(pin)
			return op.dialog(ctx, err)
		}
		if err := ctx.Err(); err != nil {
			wipe(pin)
			return err
		}
		if len(pin) == 0 {
			// An empty PIN would only spend one of the token's tries.
			retry = true
			continue
		}
		err = key.Login(pin)
		wipe(pin)
		if err == nil {
			return nil
		}
		var te *token.Error
		if !errors.As(err, &te) || te.Code != token.PINIncorrect {
			return err
		}
		st, retry = te.PIN, true
	}
}

func wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
}

func (e *Engine) pinFresh(key string, window time.Duration) (time.Time, bool) {
	if window <= 0 {
		return time.Time{}, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	at, ok := e.pinAt[key]
	if !ok || e.o.Now().Sub(at) >= window {
		delete(e.pinAt, key)
		return time.Time{}, false
	}
	return at, true
}

func (e *Engine) rememberPIN(key string, at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pinAt[key] = at
}

func (e *Engine) forgetPIN(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.pinAt, key)
}

// checkText validates a page-supplied string: length in characters and no
// control or bidi characters.
func checkText(field, s string, max int) *failure {
	if utf8.RuneCountInString(s) > max {
		return badRequest("%q longer than %d characters", field, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) || isBidiControl(r) {
			return badRequest("%q holds control characters", field)
		}
	}
	return nil
}
