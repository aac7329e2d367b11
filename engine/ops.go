package engine

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
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

// getCertificate lists the signing certificates of every token present
// (with none present, the plug-in window waits for one) and asks the person
// to pick one.
func (e *Engine) getCertificate(ctx context.Context, op *operation, issuer string, rec *logRec) (any, error) {
	var certs []token.Certificate
	needle := strings.ToLower(issuer)
	err := e.waitForToken(ctx, op, func(ctx context.Context) error {
		all, err := e.o.Provider.Certificates(ctx)
		if err != nil {
			return err
		}
		certs = certs[:0]
		for _, c := range all {
			if needle == "" || strings.Contains(strings.ToLower(c.Cert.Issuer.String()), needle) {
				certs = append(certs, c)
			}
		}
		if len(certs) == 0 {
			return fail(protocol.NoCertificate)
		}
		return nil
	})
	if err != nil {
		return nil, err
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
	var i int
	if err := op.ask(ctx, func(ctx context.Context) (err error) {
		i, err = e.o.Prompter.PickCertificate(ctx, op.origin.String(), choices)
		return err
	}); err != nil {
		return nil, err
	}
	if i < 0 || i >= len(certs) {
		return nil, fmt.Errorf("prompter picked certificate %d of %d", i, len(certs))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := certs[i]
	rec.cert, rec.subject = c.ID, holder(c.Cert)
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
