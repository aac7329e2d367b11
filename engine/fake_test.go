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

	// What a real token does that SoftHSM does not (the SoftHSM side of
	// these is the fault module's: security/ and agent tests).
	absent int           // the next this many Open/Certificates calls find no token
	pad    bool          // a PIN pad: Login(nil), pinpad decides
	pinpad func() error  // the person at the pad: nil (right PIN) or a token error
	faulty int           // the next this many signatures come back with a bit flipped
	hang   chan struct{} // when set, Sign blocks until it is closed
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

// release lets the calls stuck on hang go on, and later ones not hang.
func (p *fakeProvider) release(hang chan struct{}) {
	p.mu.Lock()
	p.hang = nil
	p.mu.Unlock()
	close(hang)
}

// gone reports (and counts down) an absent token. Callers hold p.mu.
func (p *fakeProvider) gone() bool {
	if p.absent > 0 {
		p.absent--
		return true
	}
	return false
}

func (p *fakeProvider) Certificates(ctx context.Context) ([]token.Certificate, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.certs) == 0 || p.gone() {
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
	if p.gone() {
		return nil, &token.Error{Code: protocol.NoToken}
	}
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

func (k *fakeKey) ProtectedPath() bool {
	k.p.mu.Lock()
	defer k.p.mu.Unlock()
	return k.p.pad
}

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
	pad, person := k.p.pad, k.p.pinpad
	k.p.mu.Unlock()
	if pad {
		if pin != nil {
			return &token.Error{Code: protocol.TokenError, Detail: "CKR_ARGUMENTS_BAD"}
		}
		var err error
		if person != nil {
			err = person() // the person typing on the pad, outside the lock
		}
		k.p.mu.Lock()
		defer k.p.mu.Unlock()
		k.p.logins++
		if err != nil {
			return err
		}
		k.p.loggedIn, k.authed = true, true
		return nil
	}
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
	k.p.mu.Lock()
	onSign := k.p.onSign
	k.p.mu.Unlock()
	if onSign != nil {
		onSign()
	}
	k.p.mu.Lock()
	hang := k.p.hang
	k.p.mu.Unlock()
	if hang != nil {
		<-hang // a token stuck inside C_Sign: ctx does not reach it
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
	sig, err := k.c.signer.Sign(rand.Reader, hash, opts)
	if err == nil && k.p.faulty > 0 {
		k.p.faulty--
		sig[len(sig)/2] ^= 0x10 // an RSA-CRT fault's one wrong bit
	}
	return sig, err
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
