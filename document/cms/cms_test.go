package cms_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kyso.vn/kyso/document"
	"kyso.vn/kyso/document/cms"
	"kyso.vn/kyso/document/tsa"
	"kyso.vn/kyso/internal/doctest"
)

// content is what the "portal" signs: a file whose digest it sends.
var content = []byte("Tờ khai thuế tháng 3/2026 — Công ty TNHH Một Thành Viên Hạ Long\n")

func digestOf(h crypto.Hash, b []byte) []byte {
	hh := h.New()
	hh.Write(b)
	return hh.Sum(nil)
}

// opensslVerify runs `openssl cms -verify` on a detached CMS over the file
// content, trusting only the test root.
func opensslVerify(t *testing.T, p *doctest.PKI, der, data []byte) string {
	t.Helper()
	dir := t.TempDir()
	root := doctest.WritePEM(t, dir, "root.pem", p.Root.Cert)
	sig := filepath.Join(dir, "sig.p7s")
	file := filepath.Join(dir, "content.bin")
	os.WriteFile(sig, der, 0o600)
	os.WriteFile(file, data, 0o600)
	out, err := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", sig,
		"-content", file, "-CAfile", root, "-out", os.DevNull).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl cms -verify: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "Verification successful") {
		t.Fatalf("openssl cms -verify: %s", out)
	}
	print, err := exec.Command("openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", sig).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl cms -cmsout -print: %v\n%s", err, print)
	}
	return string(print)
}

func TestSignCmsAllKeys(t *testing.T) {
	p := doctest.Get(t)
	cases := []struct {
		kind string
		h    crypto.Hash
		alg  string // the SignerInfo's signatureAlgorithm as openssl prints it
	}{
		{doctest.RSA2048, crypto.SHA256, "rsaEncryption"},
		{doctest.RSA3072, crypto.SHA384, "rsaEncryption"},
		{doctest.RSA4096, crypto.SHA512, "rsaEncryption"},
		{doctest.P256, crypto.SHA256, "ecdsa-with-SHA256"},
		{doctest.P384, crypto.SHA384, "ecdsa-with-SHA384"},
	}
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			id := p.Signer(t, c.kind)
			s := p.DocSigner(id)
			opts := cms.Options{SigningTime: true, FileName: "to-khai.xml"}
			prep, err := cms.Prepare(digestOf(c.h, content), c.h, s, opts)
			if err != nil {
				t.Fatal(err)
			}
			if prep.Hash() != c.h {
				t.Fatalf("Hash %v", prep.Hash())
			}
			sum := prep.Summary()
			if sum.Kind != "cms" || sum.FileName != "to-khai.xml" {
				t.Fatalf("summary %+v", sum)
			}
			if c.h == crypto.SHA256 && sum.SHA256 != sha256.Sum256(content) {
				t.Fatal("summary SHA-256 is not the digest given")
			}
			der, err := prep.Finish(context.Background(), doctest.SignPrepared(t, prep, id.Key))
			if err != nil {
				t.Fatal(err)
			}
			max, err := cms.MaxSize(s, c.h, opts)
			if err != nil || len(der) > max {
				t.Fatalf("CMS of %d bytes, MaxSize %d (%v)", len(der), max, err)
			}
			// Go's reading.
			v, err := cms.Verify(der, digestOf(c.h, content))
			if err != nil {
				t.Fatal(err)
			}
			if !v.Signer.Equal(id.Cert) || !v.SigningCertificateV2 || v.Hash != c.h || v.Content != nil {
				t.Fatalf("verified %+v", v)
			}
			if !v.SigningTime.Equal(s.Time.Truncate(time.Second)) {
				t.Fatalf("signing time %v, want %v", v.SigningTime, s.Time)
			}
			if len(v.Certificates) != 3 {
				t.Fatalf("%d certificates, want the signer and its chain", len(v.Certificates))
			}
			// openssl's, with the chain from the CMS and the root trusted.
			out := opensslVerify(t, p, der, content)
			for _, want := range []string{"id-smime-aa-signingCertificateV2", "signingTime", "messageDigest", "contentType", c.alg} {
				if !strings.Contains(out, want) {
					t.Errorf("openssl -print lacks %s", want)
				}
			}
			// Another content does not verify.
			if _, err := cms.Verify(der, digestOf(c.h, []byte("other"))); err == nil {
				t.Fatal("verified over another digest")
			}
		})
	}
}

func TestNoSigningTimeForPAdES(t *testing.T) {
	p := doctest.Get(t)
	id := p.Signer(t, doctest.P256)
	prep, err := cms.Prepare(digestOf(crypto.SHA256, content), crypto.SHA256, p.DocSigner(id), cms.Options{})
	if err != nil {
		t.Fatal(err)
	}
	der, err := prep.Finish(context.Background(), doctest.SignPrepared(t, prep, id.Key))
	if err != nil {
		t.Fatal(err)
	}
	v, err := cms.Verify(der, digestOf(crypto.SHA256, content))
	if err != nil || !v.SigningTime.IsZero() {
		t.Fatalf("signing time %v (%v): PAdES must not have it", v.SigningTime, err)
	}
	if out := opensslVerify(t, p, der, content); strings.Contains(out, "signingTime") {
		t.Fatal("openssl sees a signingTime attribute")
	}
}

func TestFinishRefusesWrongSignature(t *testing.T) {
	p := doctest.Get(t)
	id := p.Signer(t, doctest.RSA2048)
	other := p.Signer(t, doctest.RSA3072)
	prep, err := cms.Prepare(digestOf(crypto.SHA256, content), crypto.SHA256, p.DocSigner(id), cms.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, sig := range map[string][]byte{
		"other key": doctest.SignPrepared(t, prep, other.Key),
		"garbage":   bytes.Repeat([]byte{7}, 256),
		"empty":     nil,
	} {
		if der, err := prep.Finish(context.Background(), sig); err == nil || der != nil {
			t.Errorf("%s: Finish gave %d bytes, %v", name, len(der), err)
		}
	}
}

func TestPrepareRefuses(t *testing.T) {
	p := doctest.Get(t)
	id := p.Signer(t, doctest.P256)
	s := p.DocSigner(id)
	if _, err := cms.Prepare(make([]byte, 20), crypto.SHA256, s, cms.Options{}); err == nil {
		t.Error("a 20-byte digest for SHA-256 was accepted")
	}
	if _, err := cms.Prepare(make([]byte, 20), crypto.SHA1, s, cms.Options{}); err != cms.ErrUnsupported {
		t.Errorf("SHA-1: %v", err)
	}
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: p.Root.Cert.SerialNumber}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	edCert, _ := x509.ParseCertificate(der)
	if _, err := cms.Prepare(make([]byte, 32), crypto.SHA256, document.Signer{Cert: edCert}, cms.Options{}); err != cms.ErrUnsupported {
		t.Errorf("Ed25519: %v", err)
	}
	if _, err := cms.Prepare(make([]byte, 32), crypto.SHA256, document.Signer{Cert: s.Cert}, cms.Options{SigningTime: true}); err == nil {
		t.Error("signing-time asked without a time was accepted")
	}
}

// TestTimestamp: CAdES-T with a real TSA (openssl ts -reply), the token
// checked by openssl ts -verify over the signature value.
func TestTimestamp(t *testing.T) {
	p := doctest.Get(t)
	id := p.Signer(t, doctest.RSA2048)
	ts := p.NewTSA(t)
	opts := cms.Options{Timestamper: tsa.New(ts.URL)}
	prep, err := cms.Prepare(digestOf(crypto.SHA256, content), crypto.SHA256, p.DocSigner(id), opts)
	if err != nil {
		t.Fatal(err)
	}
	der, err := prep.Finish(context.Background(), doctest.SignPrepared(t, prep, id.Key))
	if err != nil {
		t.Fatal(err)
	}
	if max, _ := cms.MaxSize(p.DocSigner(id), crypto.SHA256, opts); len(der) > max {
		t.Fatalf("%d bytes over MaxSize %d", len(der), max)
	}
	v, err := cms.Verify(der, digestOf(crypto.SHA256, content))
	if err != nil {
		t.Fatal(err)
	}
	if v.TimestampToken == nil {
		t.Fatal("no signature-time-stamp-token")
	}
	opensslVerify(t, p, der, content)
	ts.VerifyToken(t, v.TimestampToken, v.Signature)
}

func TestTimestampFailures(t *testing.T) {
	p := doctest.Get(t)
	id := p.Signer(t, doctest.P256)
	ts := p.NewTSA(t)
	for _, mode := range []string{"garbage", "http500", "other", "slow", "reject", "down"} {
		t.Run(mode, func(t *testing.T) {
			c := tsa.New(ts.URL)
			c.Timeout = 2 * time.Second
			ts.Mode.Store(mode)
			switch mode {
			case "reject":
				ts.Mode.Store("")
				c.Policy = []int{1, 2, 3, 4} // not a policy the TSA serves
			case "down":
				ts.Mode.Store("")
				c.URL = "http://127.0.0.1:1/tsr"
			}
			prep, err := cms.Prepare(digestOf(crypto.SHA256, content), crypto.SHA256, p.DocSigner(id), cms.Options{Timestamper: c})
			if err != nil {
				t.Fatal(err)
			}
			der, err := prep.Finish(context.Background(), doctest.SignPrepared(t, prep, id.Key))
			if der != nil || !document.IsCode(err, document.CodeTimestampFailed) {
				t.Fatalf("got %d bytes, %v; want TIMESTAMP_FAILED and nothing", len(der), err)
			}
			t.Log(err)
		})
	}
}

func TestVerifyRefusesTampering(t *testing.T) {
	p := doctest.Get(t)
	id := p.Signer(t, doctest.RSA2048)
	d := sha512.Sum384(content)
	prep, err := cms.Prepare(d[:], crypto.SHA384, p.DocSigner(id), cms.Options{SigningTime: true})
	if err != nil {
		t.Fatal(err)
	}
	der, err := prep.Finish(context.Background(), doctest.SignPrepared(t, prep, id.Key))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(der); i += 7 {
		bad := bytes.Clone(der)
		bad[i] ^= 0x01
		if _, err := cms.Verify(bad, d[:]); err == nil {
			// A flip inside a certificate outside the signer's key (e.g.
			// the root's signature) does not touch what is verified.
			if !inChainCert(p, der, i) {
				t.Errorf("flipping byte %d of %d still verifies: % x", i, len(der), der[i-8:i+8])
			}
		}
	}
}

// inChainCert reports whether offset i of der lies inside one of the
// chain certificates (not the signer's), which Verify does not check.
func inChainCert(p *doctest.PKI, der []byte, i int) bool {
	for _, c := range []*x509.Certificate{p.Intermediate.Cert, p.Root.Cert} {
		if j := bytes.Index(der, c.Raw); j >= 0 && i >= j && i < j+len(c.Raw) {
			return true
		}
	}
	return false
}
