//go:build linux && cgo

package docsign

import (
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"

	"kyso.vn/kyso/document/cms"
	"kyso.vn/kyso/internal/doctest"
	"kyso.vn/kyso/internal/testenv"
	"kyso.vn/kyso/protocol"
)

// TestTimestamp: with timestampUrl in the system policy (the agent reads
// it from its own /etc/kyso, mounted in a namespace of its own), signPdf
// is PAdES B-T and signCms CAdES-T with tokens from a real RFC 3161
// authority (openssl ts -reply behind a small HTTP handler), which
// openssl ts -verify accepts; when the authority answers garbage, the
// page gets TIMESTAMP_FAILED and no document, and the agent goes on.
func TestTimestamp(t *testing.T) {
	ts := doctest.Get(t).NewTSA(t)
	display := testenv.Display(t)
	_, c := startAgent(t, display, map[string]any{"timestampUrl": ts.URL})
	tk := tokens(t)
	ca := cert(t, testenv.CertCA)
	rsa, ec := certID(t, testenv.CertRSA), certID(t, testenv.CertEC)

	doc := groffPDF(t)
	out := unb64(t, signed[pdfResult](t, c, display, "signPdf", map[string]any{"certificateId": ec, "pdf": b64(doc)}).PDF)
	if !bytes.Equal(out[:len(doc)], doc) {
		t.Fatal("the original bytes changed")
	}
	v := doctest.VerifyPDF(t, out, ca, 1, 0)
	if v[0].Signed == nil || v[0].Signed.TimestampToken == nil {
		t.Fatal("no signature-time-stamp-token: not PAdES B-T")
	}
	ts.VerifyToken(t, v[0].Signed.TimestampToken, v[0].Signed.Signature)

	content := []byte("hồ sơ đính kèm")
	d := sha256.Sum256(content)
	der := unb64(t, signed[cmsResult](t, c, display, "signCms", map[string]any{"certificateId": rsa, "hash": b64(d[:]), "hashFunction": "SHA-256"}).CMS)
	s, err := cms.Verify(der, d[:])
	if err != nil || s.TimestampToken == nil {
		t.Fatalf("signCms: %+v, %v", s, err)
	}
	ts.VerifyToken(t, s.TimestampToken, s.Signature)
	dir := t.TempDir()
	cf, p7s := filepath.Join(dir, "content"), filepath.Join(dir, "sig.p7s")
	os.WriteFile(cf, content, 0o600)
	os.WriteFile(p7s, der, 0o600)
	if o := run(t, "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", p7s, "-content", cf,
		"-CAfile", tk.CACert, "-purpose", "any", "-out", os.DevNull); !bytes.Contains(o, []byte("Verification successful")) {
		t.Fatalf("openssl cms -verify: %s", o)
	}

	ts.Mode.Store("garbage")
	send(t, c, "g", "signPdf", map[string]any{"certificateId": ec, "pdf": b64(doc)})
	testenv.AnswerPIN(t, display, pinTitle, docPIN)
	if r := read(t, c); r.Code() != protocol.TimestampFailed || r.Result != nil {
		t.Fatalf("a TSA answering garbage: %+v, want TIMESTAMP_FAILED", r)
	}
	if r := refused(t, c, "version", nil); !r.OK {
		t.Fatalf("version after: %+v", r.Error)
	}
}
