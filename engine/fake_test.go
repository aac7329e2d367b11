package engine

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"sync"
	"testing"
	"time"

	"kyso.vn/kyso/protocol"
	"kyso.vn/kyso/token"
)

// The unit tests use a token.Provider backed by Go crypto keys (real keys,
// real certificates, real signatures) so that engine logic is tested without
// PKCS#11; integration_test.go runs the same flows on SoftHSM.

type fakeCert struct {
	token.Certificate
	signer crypto.Signer
}

type fakeProvider struct {
	mu       sync.Mutex
	certs    []fakeCert
	pin      string
	loggedIn bool
	signed   int // hashes signed
	logins   int // Login calls
	closes   []time.Duration
	signErr  error // returned by Sign when set
	state    token.PINState
	onSign   func() // called before each signature
}

var (
	keysOnce sync.Once
	rsaKey   *rsa.PrivateKey
	ecKey    *ecdsa.PrivateKey
)

func testKeys(t testing.TB) (*rsa.PrivateKey, *ecdsa.PrivateKey) {
	keysOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
	})
	return rsaKey, ecKey
}

func makeCert(t testing.TB, signer crypto.Signer, cn, issuer string, notAfter time.Time) fakeCert {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(0x1234abcd),
		Subject:      pkix.Name{CommonName: cn, Country: []string{"VN"}},
		Issuer:       pkix.Name{CommonName: issuer},
		NotBefore:    time.Now().Add(-48 * time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
	}
	parent := *tmpl
	parent.Subject = pkix.Name{CommonName: issuer}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, &parent, signer.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	return fakeCert{
		Certificate: token.Certificate{ID: hex.EncodeToString(sum[:]), Cert: c,
			Token: token.Info{Label: "fake-token", Manufacturer: "Kyso tests", Model: "fake", SerialNumber: "42"}},
		signer: signer,
	}
}

func newFakeProvider(t testing.TB) *fakeProvider {
	r, e := testKeys(t)
	return &fakeProvider{pin: "123456", certs: []fakeCert{
		makeCert(t, r, "NGUYỄN VĂN AN", "Kyso Test CA", time.Now().Add(365*24*time.Hour)),
		makeCert(t, e, "TRẦN THỊ BÌNH", "Other CA", time.Now().Add(365*24*time.Hour)),
	}}
}

func (p *fakeProvider) Certificates(ctx context.Context) ([]token.Certificate, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.certs) == 0 {
		return nil, &token.Error{Code: protocol.NoToken}
	}
	var out []token.Certificate
	for _, c := range p.certs {
		out = append(out, c.Certificate)
	}
	return out, nil
}

func (p *fakeProvider) Open(ctx context.Context, id string) (token.Key, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.certs {
		if c.ID == id {
			return &fakeKey{p: p, c: c}, nil
		}
	}
	return nil, &token.Error{Code: protocol.CertificateNotFound}
}

type fakeKey struct {
	p      *fakeProvider
	c      fakeCert
	authed bool
}

func (k *fakeKey) Certificate() token.Certificate { return k.c.Certificate }

func (k *fakeKey) ProtectedPath() bool { return false }

func (k *fakeKey) PINState() (token.PINState, error) {
	k.p.mu.Lock()
	defer k.p.mu.Unlock()
	return k.p.state, nil
}

func (k *fakeKey) LoggedIn() bool {
	k.p.mu.Lock()
	defer k.p.mu.Unlock()
	return k.p.loggedIn
}

func (k *fakeKey) Login(pin []byte) error {
	k.p.mu.Lock()
	defer k.p.mu.Unlock()
	k.p.logins++
	if string(pin) != k.p.pin {
		k.p.loggedIn = false
		k.p.state = token.PINState{CountLow: true}
		return &token.Error{Code: token.PINIncorrect, PIN: k.p.state}
	}
	k.p.state = token.PINState{}
	k.p.loggedIn, k.authed = true, true
	return nil
}

var cryptoHash = map[token.HashFunc]crypto.Hash{
	token.SHA224: crypto.SHA224, token.SHA256: crypto.SHA256, token.SHA384: crypto.SHA384,
	token.SHA512: crypto.SHA512, token.SHA3_256: crypto.SHA3_256, token.SHA3_384: crypto.SHA3_384,
	token.SHA3_512: crypto.SHA3_512,
}

func (k *fakeKey) Sign(ctx context.Context, hash []byte, h token.HashFunc, s token.Scheme) ([]byte, error) {
	if f := k.p.onSign; f != nil {
		f()
	}
	k.p.mu.Lock()
	defer k.p.mu.Unlock()
	if k.p.signErr != nil {
		return nil, k.p.signErr
	}
	if !k.p.loggedIn {
		return nil, &token.Error{Code: protocol.TokenError, Detail: "CKR_USER_NOT_LOGGED_IN"}
	}
	k.p.signed++
	var opts crypto.SignerOpts = cryptoHash[h]
	if s == token.PSS {
		opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: cryptoHash[h]}
	}
	return k.c.signer.Sign(rand.Reader, hash, opts)
}

func (k *fakeKey) Close(keep time.Duration) error {
	k.p.mu.Lock()
	defer k.p.mu.Unlock()
	k.p.closes = append(k.p.closes, keep)
	if keep <= 0 {
		k.p.loggedIn = false
	}
	return nil
}
