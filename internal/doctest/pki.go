// Package doctest holds what the document packages' tests share: a test
// PKI made with Go crypto (a root CA, an intermediate CA, signers with
// RSA-2048/3072/4096 and ECDSA P-256/P-384 keys whose names are
// Vietnamese, a timestamp authority's certificate), signing a Prepared
// with the key as a token would, and a real RFC 3161 timestamp authority:
// `openssl ts -reply` behind an HTTP handler. Tests only.
package doctest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"kyso.vn/kyso/document"
)

// Key kinds of the test signers.
const (
	RSA2048 = "rsa2048"
	RSA3072 = "rsa3072"
	RSA4096 = "rsa4096"
	P256    = "p256"
	P384    = "p384"
)

// Identity is a test certificate with its private key.
type Identity struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// PKI is the test hierarchy: Root signs Intermediate, which signs the
// signers and the TSA.
type PKI struct {
	Root, Intermediate, TSA Identity
	signers                 map[string]Identity
	mu                      sync.Mutex
}

var (
	pkiOnce sync.Once
	pki     *PKI
	pkiErr  error
)

// Get returns the process's test PKI, made on first use.
func Get(t testing.TB) *PKI {
	t.Helper()
	pkiOnce.Do(func() { pki, pkiErr = newPKI() })
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return pki
}

var serial int64 = 1000

func nextSerial() *big.Int {
	serial++
	// A long serial like a real CA's, with the top bit set in one byte to
	// exercise DER INTEGER padding.
	s := new(big.Int).Lsh(big.NewInt(0x8f), 120)
	return s.Add(s, big.NewInt(serial))
}

func newKey(kind string) (crypto.Signer, error) {
	switch kind {
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case RSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	case RSA4096:
		return rsa.GenerateKey(rand.Reader, 4096)
	case P256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case P384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	}
	return nil, fmt.Errorf("doctest: unknown key kind %q", kind)
}

func issue(tmpl *x509.Certificate, key crypto.Signer, parent Identity) (Identity, error) {
	tmpl.SerialNumber = nextSerial()
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = time.Now().Add(-24 * time.Hour)
		tmpl.NotAfter = time.Now().Add(5 * 365 * 24 * time.Hour)
	}
	signerCert, signerKey := parent.Cert, parent.Key
	if signerCert == nil {
		signerCert, signerKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, key.Public(), signerKey)
	if err != nil {
		return Identity{}, err
	}
	c, err := x509.ParseCertificate(der)
	return Identity{Cert: c, Key: key}, err
}

func newPKI() (*PKI, error) {
	p := &PKI{signers: map[string]Identity{}}
	rootKey, err := newKey(RSA2048)
	if err != nil {
		return nil, err
	}
	p.Root, err = issue(&x509.Certificate{
		Subject:               pkix.Name{CommonName: "Kyso Test Root CA", Organization: []string{"Kyso Test"}, Country: []string{"VN"}},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, rootKey, Identity{})
	if err != nil {
		return nil, err
	}
	interKey, err := newKey(P256)
	if err != nil {
		return nil, err
	}
	p.Intermediate, err = issue(&x509.Certificate{
		Subject:               pkix.Name{CommonName: "Kyso Test Sub CA", Organization: []string{"Kyso Test"}, Country: []string{"VN"}},
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, interKey, p.Root)
	if err != nil {
		return nil, err
	}
	tsaKey, err := newKey(RSA2048)
	if err != nil {
		return nil, err
	}
	// RFC 3161 wants extendedKeyUsage timeStamping marked critical; Go
	// writes it non-critical, so the extension is given by hand (it
	// replaces the one Go would make).
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	if err != nil {
		return nil, err
	}
	p.TSA, err = issue(&x509.Certificate{
		Subject:         pkix.Name{CommonName: "Kyso Test TSA", Organization: []string{"Kyso Test"}, Country: []string{"VN"}},
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}},
	}, tsaKey, p.Intermediate)
	return p, err
}

// Signer is the test signer with a key of kind (RSA2048, …, P384), made on
// first use: CN "NGUYỄN VĂN AN", O "UBND TỈNH BẮC NINH", issued by the
// intermediate CA.
func (p *PKI) Signer(t testing.TB, kind string) Identity {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if id, ok := p.signers[kind]; ok {
		return id
	}
	key, err := newKey(kind)
	if err != nil {
		t.Fatal(err)
	}
	id, err := issue(&x509.Certificate{
		Subject: pkix.Name{
			CommonName:   "NGUYỄN VĂN AN",
			Organization: []string{"UBND TỈNH BẮC NINH"},
			Locality:     []string{"Bắc Ninh"},
			Country:      []string{"VN"},
		},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	}, key, p.Intermediate)
	if err != nil {
		t.Fatal(err)
	}
	p.signers[kind] = id
	return id
}

// DocSigner is the document.Signer for id: its certificate, the chain
// (intermediate and root, as a token found them) and a fixed claimed time
// in Vietnam's zone.
func (p *PKI) DocSigner(id Identity) document.Signer {
	return document.Signer{
		Cert:  id.Cert,
		Chain: []*x509.Certificate{p.Intermediate.Cert, p.Root.Cert},
		Time:  time.Date(2026, 3, 9, 14, 5, 9, 0, time.FixedZone("ICT", 7*3600)),
	}
}

// SignPrepared signs p's digest with key as a token does (RSA: PKCS#1
// v1.5 over the DigestInfo; ECDSA: DER SEQUENCE{r, s}).
func SignPrepared(t testing.TB, p document.Prepared, key crypto.Signer) []byte {
	t.Helper()
	sig, err := key.Sign(rand.Reader, p.Digest(), p.Hash())
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// WritePEM writes certificates as PEM to dir/name and returns the path.
func WritePEM(t testing.TB, dir, name string, certs ...*x509.Certificate) string {
	t.Helper()
	var b []byte
	for _, c := range certs {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// WriteKey writes key as PKCS#8 PEM to dir/name and returns the path.
func WriteKey(t testing.TB, dir, name string, key crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
