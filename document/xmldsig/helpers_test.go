package xmldsig

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"kyso.vn/kyso/document"
)

// testPKI is a test CA and signing certificates for RSA and ECDSA keys,
// made once per test binary; caPEM is the CA for xmlsec1 --trusted-pem.
type testPKI struct {
	dir    string
	caPEM  string
	signer map[string]testSigner
}

type testSigner struct {
	key  crypto.Signer
	cert *x509.Certificate
}

var (
	pkiOnce sync.Once
	pki     *testPKI
	pkiErr  error
)

func getPKI(t testing.TB) *testPKI {
	t.Helper()
	pkiOnce.Do(func() { pki, pkiErr = makePKI() })
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return pki
}

func makePKI() (*testPKI, error) {
	dir, err := os.MkdirTemp("", "kyso-xmldsig-pki-")
	if err != nil {
		return nil, err
	}
	caKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Kyso Test CA", Organization: []string{"Kyso"}, Country: []string{"VN"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, _ := x509.ParseCertificate(caDER)
	p := &testPKI{dir: dir, caPEM: filepath.Join(dir, "ca.pem"), signer: map[string]testSigner{}}
	if err := os.WriteFile(p.caPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		return nil, err
	}
	keys := map[string]func() (crypto.Signer, error){
		"rsa":  func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) },
		"p256": func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) },
		"p384": func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P384(), rand.Reader) },
		"p521": func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P521(), rand.Reader) },
	}
	serial := int64(2)
	for name, gen := range keys {
		k, err := gen()
		if err != nil {
			return nil, err
		}
		// A Vietnamese subject as the country's CAs write it: the tax code in UID.
		uid := pkix.AttributeTypeAndValue{Type: asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}, Value: "MST:0100109106"}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject: pkix.Name{
				CommonName: "CÔNG TY CỔ PHẦN KIỂM THỬ KYSO", Organization: []string{"Kyso, thử nghiệm"},
				Locality: []string{"Hà Nội"}, Country: []string{"VN"}, ExtraNames: []pkix.AttributeTypeAndValue{uid},
			},
			NotBefore:   now.Add(-time.Hour),
			NotAfter:    now.Add(24 * time.Hour),
			KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		}
		serial++
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, k.Public(), caKey)
		if err != nil {
			return nil, err
		}
		cert, _ := x509.ParseCertificate(der)
		p.signer[name] = testSigner{key: k, cert: cert}
	}
	return p, nil
}

// signWith signs the prepared digest with the test key as a token would:
// RSA PKCS#1 v1.5, ECDSA as DER SEQUENCE{r, s}.
func signWith(t testing.TB, k crypto.Signer, p document.Prepared) []byte {
	t.Helper()
	var sig []byte
	var err error
	switch k := k.(type) {
	case *rsa.PrivateKey:
		sig, err = rsa.SignPKCS1v15(rand.Reader, k, p.Hash(), p.Digest())
	case *ecdsa.PrivateKey:
		sig, err = ecdsa.SignASN1(rand.Reader, k, p.Digest())
	}
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// signed is one signing done in a test.
type signed struct {
	in, out []byte
	sigID   string
	prep    *prepared
}

// signDoc prepares, signs with the named key and finishes.
func signDoc(t testing.TB, keyName string, in []byte, opts Options) signed {
	t.Helper()
	ts := getPKI(t).signer[keyName]
	signer := document.Signer{Cert: ts.cert, Time: time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)}
	p, err := Prepare(in, signer, opts)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	out, err := p.Finish(context.Background(), signWith(t, ts.key, p))
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	pp := p.(*prepared)
	id := regexp.MustCompile(` Id="([^"]+)"`).FindSubmatch(pp.sigHead)[1]
	return signed{in: in, out: out, sigID: string(id), prep: pp}
}

// checkOutside checks that out is in with only the Signature inserted (and
// a self-closing parent opened).
func checkOutside(t testing.TB, s signed) {
	t.Helper()
	start := bytes.Index(s.out, []byte(`<Signature xmlns="http://www.w3.org/2000/09/xmldsig#" Id="`+s.sigID+`"`))
	if start < 0 {
		t.Fatal("no Signature in the output")
	}
	end := bytes.Index(s.out[start:], []byte("</Signature>"))
	rest := append(bytes.Clone(s.out[:start]), s.out[start+end+len("</Signature>"):]...)
	if bytes.Equal(rest, s.in) {
		return
	}
	if s.prep.parent.selfClose {
		// Only <P …/> → <P …></P> is allowed besides the insertion.
		p := s.prep.parent
		want := append(bytes.Clone(s.in[:p.tagEnd-2]), '>')
		want = append(want, "</"+qname(p.prefix, p.local)+">"...)
		want = append(want, s.in[p.tagEnd:]...)
		if bytes.Equal(rest, want) {
			return
		}
	}
	t.Fatalf("the output differs from the input outside the Signature:\nin:  %q\nout: %q", s.in, rest)
}

// xmlsec runs xmlsec1 --verify on doc for the signature with Id sigID,
// trusting only the test CA. idAttrs are extra --id-attr arguments
// ("Id DLHDon"); Kyso's Signature and Object Ids are always added.
func xmlsec(t testing.TB, doc []byte, sigID string, idAttrs ...string) (bool, string) {
	t.Helper()
	if _, err := exec.LookPath("xmlsec1"); err != nil {
		t.Fatal("xmlsec1 is needed (Debian package xmlsec1, scripts/deps.sh)")
	}
	f := filepath.Join(t.TempDir(), "signed.xml")
	if err := os.WriteFile(f, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--verify", "--trusted-pem", getPKI(t).caPEM,
		"--id-attr:Id", nsDSig + ":Signature", "--node-id", sigID}
	for _, a := range idAttrs {
		attr, node, _ := strings.Cut(a, " ")
		args = append(args, "--id-attr:"+attr, node)
	}
	args = append(args, f)
	out, err := exec.Command("xmlsec1", args...).CombinedOutput()
	return err == nil, string(out)
}

func mustVerify(t testing.TB, doc []byte, sigID string, idAttrs ...string) {
	t.Helper()
	if ok, out := xmlsec(t, doc, sigID, idAttrs...); !ok {
		t.Fatalf("xmlsec1 --verify failed:\n%s\ndocument:\n%s", out, doc)
	}
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sha(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

// javaVerifier runs testdata/Verify.java (Java's own XML Signature
// implementation) over many signed documents in one JVM.
type javaVerifier struct {
	docs []string // SIGNATURE_ID=FILE
	dir  string
}

var (
	javaOnce sync.Once
	javaDir  string
	javaErr  error
)

func newJavaVerifier(t testing.TB) *javaVerifier {
	t.Helper()
	javaOnce.Do(func() {
		if _, err := exec.LookPath("javac"); err != nil {
			javaErr = errors.New("javac is needed (Debian package default-jdk-headless, scripts/deps.sh)")
			return
		}
		javaDir, javaErr = os.MkdirTemp("", "kyso-xmldsig-java-")
		if javaErr == nil {
			var out []byte
			out, javaErr = exec.Command("javac", "-d", javaDir, filepath.Join("testdata", "Verify.java")).CombinedOutput()
			if javaErr != nil {
				javaErr = fmt.Errorf("javac: %v\n%s", javaErr, out)
			}
		}
	})
	if javaErr != nil {
		t.Fatal(javaErr)
	}
	return &javaVerifier{dir: t.TempDir()}
}

// add queues doc for verification of the signature with Id sigID.
func (j *javaVerifier) add(doc []byte, sigID string) {
	f := filepath.Join(j.dir, fmt.Sprintf("%d.xml", len(j.docs)))
	if err := os.WriteFile(f, doc, 0o600); err != nil {
		panic(err)
	}
	j.docs = append(j.docs, sigID+"="+f)
}

// verify runs Java over every queued document; each must verify.
func (j *javaVerifier) verify(t testing.TB) {
	t.Helper()
	if len(j.docs) == 0 {
		return
	}
	// One core, serial GC, the quick compiler only: a short run that leaves
	// the machine's other tests (latency-sensitive ones in security/) alone.
	args := []string{"-XX:ActiveProcessorCount=1", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-cp", javaDir, "Verify", getPKI(t).caPEM}
	out, err := exec.Command("java", append(args, j.docs...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("Java's XML Signature rejected some documents: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), "ok "); n != len(j.docs) {
		t.Fatalf("Java verified %d of %d documents:\n%s", n, len(j.docs), out)
	}
}
