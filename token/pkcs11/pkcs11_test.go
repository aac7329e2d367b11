package pkcs11_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/internal/testenv"
	"kyso.vn/kyso/protocol"
	"kyso.vn/kyso/token"
	"kyso.vn/kyso/token/pkcs11"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func softhsm(t *testing.T) (*pkcs11.Provider, *testenv.Tokens) {
	t.Helper()
	tk := testenv.Shared(t)
	return pkcs11.New(pkcs11.Options{Modules: []string{tk.Module}, NoDiscovery: true, Log: zerolog.Nop()}), tk
}

// certByLabel finds the certificate of the file name on the token label.
func certByFile(t *testing.T, p token.Provider, tk *testenv.Tokens, name string) token.Certificate {
	t.Helper()
	want := readCert(t, tk.CertFile(name))
	certs, err := p.Certificates(context.Background())
	if err != nil {
		t.Fatalf("Certificates: %v", err)
	}
	for _, c := range certs {
		if bytes.Equal(c.Cert.Raw, want.Raw) {
			return c
		}
	}
	t.Fatalf("certificate %s not listed", name)
	return token.Certificate{}
}

func readCert(t testing.TB, file string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM", file)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func codeOf(err error) protocol.Code {
	var e *token.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func TestCertificatesListing(t *testing.T) {
	p, tk := softhsm(t)
	certs, err := p.Certificates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	byCN := map[string]token.Certificate{}
	for _, c := range certs {
		sum := sha256.Sum256(c.Cert.Raw)
		if c.ID != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: ID %s is not the SHA-256 of the DER", c.Cert.Subject.CommonName, c.ID)
		}
		byCN[c.Cert.Subject.CommonName] = c
	}
	for _, cn := range []string{"NGUYỄN VĂN AN", "TRẦN THỊ BÌNH", "LÊ VĂN CƯỜNG", "PHẠM MINH ĐỨC", "VÕ THỊ HẾT HẠN"} {
		if _, ok := byCN[cn]; !ok {
			t.Errorf("signing certificate %q not listed; have %v", cn, keys(byCN))
		}
	}
	// keyEncipherment only, or no keyUsage at all: not a signing
	// certificate (issue 16, finding 10). The CA: chain only.
	for _, cn := range []string{"ĐẶNG VĂN MÃ HÓA", "HOÀNG VĂN KHÔNG", "Kyso Test CA"} {
		if _, ok := byCN[cn]; ok {
			t.Errorf("%q must not be listed as a signing certificate", cn)
		}
	}
	an := byCN["NGUYỄN VĂN AN"]
	if an.Token.Label != testenv.LabelRSA || an.Token.Manufacturer != "SoftHSM project" || an.Token.Model != "SoftHSM v2" || an.Token.SerialNumber == "" {
		t.Errorf("token info %+v", an.Token)
	}
	ca := readCert(t, tk.CACert)
	if len(an.Chain) != 1 || !bytes.Equal(an.Chain[0], ca.Raw) {
		t.Errorf("chain of NGUYỄN VĂN AN: %d certs, want the test CA", len(an.Chain))
	}
	if len(byCN["TRẦN THỊ BÌNH"].Chain) != 0 {
		t.Errorf("kyso-ec256 holds no CA certificate, chain must be empty")
	}
	if got := token.NameString(an.Cert.Subject); !strings.HasPrefix(got, "CN=NGUYỄN VĂN AN, O=Sở Thông tin và Truyền thông, L=Hà Nội, C=VN") {
		t.Errorf("NameString = %q", got)
	}
	// The expired certificate is listed, after the valid one of its token.
	var two, exp = -1, -1
	for i, c := range certs {
		switch c.Cert.Subject.CommonName {
		case "PHẠM MINH ĐỨC":
			two = i
		case "VÕ THỊ HẾT HẠN":
			exp = i
		}
	}
	if exp < two {
		t.Errorf("expired certificate listed before the valid ones")
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestNoToken(t *testing.T) {
	p := pkcs11.New(pkcs11.Options{Modules: []string{"/nonexistent/libnothing.so"}, NoDiscovery: true})
	if _, err := p.Certificates(context.Background()); codeOf(err) != protocol.NoToken {
		t.Errorf("Certificates with no module: %v, want NO_TOKEN", err)
	}
	if _, err := p.Open(context.Background(), strings.Repeat("ab", 32)); codeOf(err) != protocol.NoToken {
		t.Errorf("Open with no module: %v, want NO_TOKEN", err)
	}
	st := pkcs11.Discover([]string{"/nonexistent/libnothing.so"})
	if len(st) == 0 || st[0].Source != token.SourceConfig || st[0].Loaded || st[0].Err == nil {
		t.Errorf("Discover: %+v", st)
	}
}

func TestOpenUnknown(t *testing.T) {
	p, _ := softhsm(t)
	if _, err := p.Open(context.Background(), strings.Repeat("ab", 32)); codeOf(err) != protocol.CertificateNotFound {
		t.Errorf("Open unknown: %v, want CERTIFICATE_NOT_FOUND", err)
	}
	// The encryption-only certificate, and the one without keyUsage, are
	// on a token with their keys but are no signing ones: a page that
	// learnt their ids elsewhere cannot sign with them either.
	for _, name := range []string{testenv.CertEnc, testenv.CertNoKU} {
		if _, err := p.Open(context.Background(), token.CertID(readCert(t, testenv.Shared(t).CertFile(name)).Raw)); codeOf(err) != protocol.CertificateNotFound {
			t.Errorf("Open %s: %v, want CERTIFICATE_NOT_FOUND", name, err)
		}
	}
}

var hashes = []struct {
	h      token.HashFunc
	ch     crypto.Hash
	openss string
}{
	{token.SHA224, crypto.SHA224, "sha224"},
	{token.SHA256, crypto.SHA256, "sha256"},
	{token.SHA384, crypto.SHA384, "sha384"},
	{token.SHA512, crypto.SHA512, "sha512"},
	{token.SHA3_256, crypto.SHA3_256, "sha3-256"},
	{token.SHA3_384, crypto.SHA3_384, "sha3-384"},
	{token.SHA3_512, crypto.SHA3_512, "sha3-512"},
}

func digest(ch crypto.Hash, msg string) []byte {
	h := ch.New()
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// opensslVerify checks sig over the hash with openssl pkeyutl, independently
// of Go's crypto.
func opensslVerify(t *testing.T, certFile string, hash, sig []byte, md string, pss bool) {
	t.Helper()
	dir := t.TempDir()
	hf, sf := filepath.Join(dir, "hash"), filepath.Join(dir, "sig")
	os.WriteFile(hf, hash, 0o600)
	os.WriteFile(sf, sig, 0o600)
	args := []string{"pkeyutl", "-verify", "-certin", "-inkey", certFile, "-in", hf, "-sigfile", sf, "-pkeyopt", "digest:" + md}
	if pss {
		args = append(args, "-pkeyopt", "rsa_padding_mode:pss", "-pkeyopt", "rsa_pss_saltlen:digest", "-pkeyopt", "rsa_mgf1_md:"+md)
	}
	out, err := exec.Command("openssl", args...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Signature Verified Successfully") {
		t.Errorf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestSignAllSchemes(t *testing.T) {
	p, tk := softhsm(t)
	ctx := context.Background()
	for _, name := range []string{testenv.CertRSA, testenv.CertRSA3072, testenv.CertEC} {
		c := certByFile(t, p, tk, name)
		var schemes []token.Scheme
		if _, ok := c.Cert.PublicKey.(*rsa.PublicKey); ok {
			schemes = []token.Scheme{token.PKCS1v15, token.PSS, ""}
		} else {
			schemes = []token.Scheme{token.ECDSA, ""}
		}
		k, err := p.Open(ctx, c.ID)
		if err != nil {
			t.Fatalf("%s: Open: %v", name, err)
		}
		if k.LoggedIn() {
			t.Errorf("%s: logged in before Login", name)
		}
		if err := k.Login([]byte(testenv.PIN)); err != nil {
			t.Fatalf("%s: Login: %v", name, err)
		}
		for _, s := range schemes {
			for _, hh := range hashes {
				hash := digest(hh.ch, "Kyso ký số "+name)
				sig, err := k.Sign(ctx, hash, hh.h, s)
				if s == token.PSS && strings.HasPrefix(string(hh.h), "SHA3") {
					// SoftHSM 2.6 has no SHA-3 in PSS parameters: the
					// token layer says so with UNSUPPORTED_ALGORITHM.
					if err == nil {
						verifyPSS(t, c, hh.ch, hash, sig)
						t.Logf("%s PSS %s: the module supports it", name, hh.h)
					} else if codeOf(err) == protocol.UnsupportedAlgorithm {
						t.Logf("%s PSS %s: %v", name, hh.h, err)
					} else {
						t.Errorf("%s PSS %s: %v, want UNSUPPORTED_ALGORITHM", name, hh.h, err)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s %q %s: %v", name, s, hh.h, err)
					continue
				}
				switch pub := c.Cert.PublicKey.(type) {
				case *rsa.PublicKey:
					if s == token.PSS {
						verifyPSS(t, c, hh.ch, hash, sig)
					} else if err := rsa.VerifyPKCS1v15(pub, hh.ch, hash, sig); err != nil {
						t.Errorf("%s PKCS1 %s: Go verify: %v", name, hh.h, err)
					}
				case *ecdsa.PublicKey:
					if !ecdsa.VerifyASN1(pub, hash, sig) {
						t.Errorf("%s ECDSA %s: Go verify failed", name, hh.h)
					}
				}
				opensslVerify(t, tk.CertFile(name), hash, sig, hh.openss, s == token.PSS)
			}
		}
		// A scheme that does not fit the key, a wrong hash length.
		bad := token.PSS
		if _, ok := c.Cert.PublicKey.(*rsa.PublicKey); ok {
			bad = token.ECDSA
		}
		if _, err := k.Sign(ctx, make([]byte, 32), token.SHA256, bad); codeOf(err) != protocol.UnsupportedAlgorithm {
			t.Errorf("%s with %s: %v, want UNSUPPORTED_ALGORITHM", name, bad, err)
		}
		if _, err := k.Sign(ctx, make([]byte, 31), token.SHA256, ""); codeOf(err) != protocol.BadRequest {
			t.Errorf("%s with a 31-byte SHA-256: %v, want BAD_REQUEST", name, err)
		}
		k.Close(0)
	}
}

func verifyPSS(t *testing.T, c token.Certificate, ch crypto.Hash, hash, sig []byte) {
	t.Helper()
	pub := c.Cert.PublicKey.(*rsa.PublicKey)
	if err := rsa.VerifyPSS(pub, ch, hash, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: ch}); err != nil {
		t.Errorf("PSS %v: Go verify: %v", ch, err)
	}
}

func TestWrongPINSoftHSM(t *testing.T) {
	p, tk := softhsm(t)
	c := certByFile(t, p, tk, testenv.CertEC)
	k, err := p.Open(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close(0)
	if err := k.Login([]byte("000000")); codeOf(err) != token.PINIncorrect {
		t.Fatalf("wrong PIN: %v, want PIN_INCORRECT", err)
	}
	if err := k.Login([]byte(testenv.PIN)); err != nil {
		t.Fatalf("right PIN after a wrong one: %v", err)
	}
	if _, err := k.Sign(context.Background(), digest(crypto.SHA256, "x"), token.SHA256, ""); err != nil {
		t.Fatal(err)
	}
}

func TestPINCache(t *testing.T) {
	p, tk := softhsm(t)
	ctx := context.Background()
	c := certByFile(t, p, tk, testenv.CertRSA3072)
	hash := digest(crypto.SHA256, "cache")

	k, err := p.Open(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if k.LoggedIn() {
		t.Fatal("logged in before any Login")
	}
	if err := k.Login([]byte(testenv.PIN)); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Sign(ctx, hash, token.SHA256, ""); err != nil {
		t.Fatal(err)
	}
	k.Close(time.Hour) // kept: the next operation needs no PIN

	k2, err := p.Open(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !k2.LoggedIn() {
		t.Fatal("LoggedIn() false after Close(keep > 0)")
	}
	sig, err := k2.Sign(ctx, hash, token.SHA256, "")
	if err != nil {
		t.Fatalf("Sign on a kept login: %v", err)
	}
	if err := rsa.VerifyPKCS1v15(c.Cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, hash, sig); err != nil {
		t.Error(err)
	}
	k2.Close(0) // logs out now

	k3, err := p.Open(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer k3.Close(0)
	if k3.LoggedIn() {
		t.Fatal("LoggedIn() true after Close(0)")
	}
	if _, err := k3.Sign(ctx, hash, token.SHA256, ""); err == nil {
		t.Fatal("Sign without login succeeded")
	}
}

func TestConcurrentSign(t *testing.T) {
	p, tk := softhsm(t)
	ctx := context.Background()
	c := certByFile(t, p, tk, testenv.CertRSA)
	pub := c.Cert.PublicKey.(*rsa.PublicKey)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			hash := make([]byte, 32)
			rand.Read(hash)
			k, err := p.Open(ctx, c.ID)
			if err != nil {
				errs <- err
				return
			}
			defer k.Close(0)
			if err := k.Login([]byte(testenv.PIN)); err != nil {
				errs <- err
				return
			}
			sig, err := k.Sign(ctx, hash, token.SHA256, token.PSS)
			if err == nil {
				err = rsa.VerifyPSS(pub, crypto.SHA256, hash, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
			}
			if err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
