package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"kyso.vn/kyso/document/cms"
	"kyso.vn/kyso/internal/audit"
	"kyso.vn/kyso/internal/doctest"
	"kyso.vn/kyso/prompt/prompttest"
	"kyso.vn/kyso/protocol"
	"kyso.vn/kyso/token"
)

// The document operations through the engine, on keys of the document
// tests' PKI (doctest: a root, an intermediate, signers under it) held by
// the Go-crypto provider: what the libraries produce is checked by
// outside tools (pdfsig, qpdf, openssl) in doctest.VerifyPDF; through the
// shipped binary on SoftHSM with real dialogs in docsign/.

// Debian's PDFs (pdfTeX, DocBook), which the document tests use too.
const (
	libtasn1PDF   = "/usr/share/doc/libtasn1-doc/libtasn1.pdf"
	sharedMimePDF = "/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf"
)

// docHarness is an engine whose provider holds doctest's RSA-2048 and
// P-256 signers, with the intermediate and root as the token's chain, and
// which writes a signing record.
type docHarness struct {
	*harness
	prov  *fakeProvider
	pki   *doctest.PKI
	audit *bytes.Buffer
}

func newDocHarness(t *testing.T) *docHarness {
	t.Helper()
	p := doctest.Get(t)
	chain := [][]byte{p.Intermediate.Cert.Raw, p.Root.Cert.Raw}
	prov := &fakeProvider{pin: "123456"}
	for _, kind := range []string{doctest.RSA2048, doctest.P256} {
		id := p.Signer(t, kind)
		sum := sha256.Sum256(id.Cert.Raw)
		prov.certs = append(prov.certs, fakeCert{signer: id.Key, Certificate: token.Certificate{
			ID: hex.EncodeToString(sum[:]), Cert: id.Cert, Chain: chain,
			Token: token.Info{Label: "fake-token", Manufacturer: "Kyso tests", Model: "fake", SerialNumber: "42"}}})
	}
	var buf bytes.Buffer
	h := newHarness(t, prov, allowPortal, func(o *Options) { o.Audit = audit.New(&syncBuf{b: &buf}) })
	h.pr.Always(prompttest.KindPIN, prompttest.PIN("123456"))
	return &docHarness{harness: h, prov: prov, pki: p, audit: &buf}
}

type syncBuf struct{ b *bytes.Buffer }

func (s *syncBuf) Write(p []byte) (int, error) {
	logMu.Lock()
	defer logMu.Unlock()
	return s.b.Write(p)
}

// records are the signing record's entries so far.
func (h *docHarness) records(t *testing.T) []audit.Record {
	t.Helper()
	logMu.Lock()
	defer logMu.Unlock()
	var out []audit.Record
	for _, l := range strings.Split(strings.TrimSpace(h.audit.String()), "\n") {
		if l == "" {
			continue
		}
		var r audit.Record
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("audit line %q: %v", l, err)
		}
		out = append(out, r)
	}
	return out
}

func readDoc(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("%s: %v", path, err)
	}
	return b
}

func b64s(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func result[T any](t *testing.T, r reply) T {
	t.Helper()
	if !r.OK {
		t.Fatalf("answer %+v", r.Error)
	}
	var v T
	if err := json.Unmarshal(r.Result, &v); err != nil {
		t.Fatalf("result %.300s: %v", r.Result, err)
	}
	return v
}

func unb64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDocumentParams: every malformed param of the document operations is
// BAD_REQUEST, before any dialog and without touching the token.
func TestDocumentParams(t *testing.T) {
	h := newDocHarness(t)
	id := h.prov.certs[0].ID
	pdf := b64s([]byte("%PDF-1.7 not really"))
	hash := hashB64("x")
	cases := []struct {
		name, op, params string
	}{
		{"pdf missing", "signPdf", `{"certificateId":"` + id + `"}`},
		{"pdf empty", "signPdf", `{"certificateId":"` + id + `","pdf":""}`},
		{"pdf not base64", "signPdf", `{"certificateId":"` + id + `","pdf":"%PDF-1.7"}`},
		{"pdf url-safe base64", "signPdf", `{"certificateId":"` + id + `","pdf":"` + strings.NewReplacer("+", "-", "/", "_").Replace(b64s([]byte{0xfb, 0xff, 0xfe})) + `"}`},
		{"pdf a number", "signPdf", `{"certificateId":"` + id + `","pdf":7}`},
		{"certificateId bad", "signPdf", `{"certificateId":"ABC","pdf":"` + pdf + `"}`},
		{"unknown field", "signPdf", `{"certificateId":"` + id + `","pdf":"` + pdf + `","pin":"1"}`},
		{"hashFunction", "signPdf", `{"certificateId":"` + id + `","pdf":"` + pdf + `","hashFunction":"SHA-256"}`},
		{"pdf and documents", "signPdf", `{"certificateId":"` + id + `","pdf":"` + pdf + `","documents":[{"pdf":"` + pdf + `"}]}`},
		{"reason beside documents", "signPdf", `{"certificateId":"` + id + `","reason":"x","documents":[{"pdf":"` + pdf + `"}]}`},
		{"documents empty", "signPdf", `{"certificateId":"` + id + `","documents":[]}`},
		{"documents 101", "signPdf", `{"certificateId":"` + id + `","documents":[` + strings.Repeat(`{"pdf":"`+pdf+`"},`, 100) + `{"pdf":"` + pdf + `"}]}`},
		{"documents not a list", "signPdf", `{"certificateId":"` + id + `","documents":{"pdf":"` + pdf + `"}}`},
		{"document without pdf", "signPdf", `{"certificateId":"` + id + `","documents":[{"pdf":"` + pdf + `"},{"fileName":"b.pdf"}]}`},
		{"document unknown field", "signPdf", `{"certificateId":"` + id + `","documents":[{"pdf":"` + pdf + `","description":"x"}]}`},
		{"reason too long", "signPdf", `{"certificateId":"` + id + `","pdf":"` + pdf + `","reason":"` + strings.Repeat("ý", 501) + `"}`},
		{"location control", "signPdf", `{"certificateId":"` + id + `","pdf":"` + pdf + `","location":"Hà\u0007Nội"}`},
		{"contactInfo number", "signPdf", `{"certificateId":"` + id + `","pdf":"` + pdf + `","contactInfo":1}`},
		{"fileName bidi", "signPdf", `{"certificateId":"` + id + `","pdf":"` + pdf + `","fileName":"hop-dong\u202Efdp.exe"}`},
		{"fileName too long", "signPdf", `{"certificateId":"` + id + `","pdf":"` + pdf + `","fileName":"` + strings.Repeat("a", 256) + `"}`},
		{"description too long", "signPdf", `{"certificateId":"` + id + `","pdf":"` + pdf + `","description":"` + strings.Repeat("a", 257) + `"}`},
		{"stamp a string", "signPdf", `{"certificateId":"` + id + `","pdf":"` + pdf + `","stamp":"visible"}`},
		{"stamp unknown field", "signPdf", `{"certificateId":"` + id + `","pdf":"` + pdf + `","stamp":{"color":"red"}}`},
		{"stamp page 0", "signPdf", `{"certificateId":"` + id + `","pdf":"` + pdf + `","stamp":{"page":0}}`},
		{"stamp page -2", "signPdf", `{"certificateId":"` + id + `","pdf":"` + pdf + `","stamp":{"page":-2}}`},
		{"stamp page 1.5", "signPdf", `{"certificateId":"` + id + `","pdf":"` + pdf + `","stamp":{"page":1.5}}`},
		{"stamp page string", "signPdf", `{"certificateId":"` + id + `","pdf":"` + pdf + `","stamp":{"page":"1"}}`},
		{"stamp rect 3", "signPdf", `{"certificateId":"` + id + `","pdf":"` + pdf + `","stamp":{"rect":[1,2,3]}}`},
		{"stamp rect negative", "signPdf", `{"certificateId":"` + id + `","pdf":"` + pdf + `","stamp":{"rect":[-1,2,100,50]}}`},
		{"stamp rect zero width", "signPdf", `{"certificateId":"` + id + `","pdf":"` + pdf + `","stamp":{"rect":[1,2,0,50]}}`},
		{"stamp rect strings", "signPdf", `{"certificateId":"` + id + `","pdf":"` + pdf + `","stamp":{"rect":["1","2","3","4"]}}`},
		{"stamp text control", "signPdf", `{"certificateId":"` + id + `","pdf":"` + pdf + `","stamp":{"text":"a\tb"}}`},
		{"stamp text too long", "signPdf", `{"certificateId":"` + id + `","pdf":"` + pdf + `","stamp":{"text":"` + strings.Repeat("ư", 1001) + `"}}`},
		{"stamp image not base64", "signPdf", `{"certificateId":"` + id + `","pdf":"` + pdf + `","stamp":{"image":"data:image/png;base64,AAAA"}}`},
		{"stamp image empty", "signPdf", `{"certificateId":"` + id + `","pdf":"` + pdf + `","stamp":{"image":""}}`},

		{"xml missing", "signXml", `{"certificateId":"` + id + `"}`},
		{"xml a number", "signXml", `{"certificateId":"` + id + `","xml":1}`},
		{"xml base64 field", "signXml", `{"certificateId":"` + id + `","pdf":"` + pdf + `"}`},
		{"signingTime a string", "signXml", `{"certificateId":"` + id + `","xml":"<a/>","signingTime":"yes"}`},
		{"reference without #", "signXml", `{"certificateId":"` + id + `","xml":"<a/>","reference":"DLHDon"}`},
		{"parent relative", "signXml", `{"certificateId":"` + id + `","xml":"<a/>","parent":"HDon/DSCKS"}`},
		{"xml and documents", "signXml", `{"certificateId":"` + id + `","xml":"<a/>","documents":[{"xml":"<a/>"}]}`},
		{"xml documents 101", "signXml", `{"certificateId":"` + id + `","documents":[` + strings.Repeat(`{"xml":"<a/>"},`, 100) + `{"xml":"<a/>"}]}`},
		{"xml document reference", "signXml", `{"certificateId":"` + id + `","documents":[{"xml":"<a/>","reference":"x"}]}`},

		{"cms hash and hashes", "signCms", `{"certificateId":"` + id + `","hash":"` + hash + `","hashes":["` + hash + `"],"hashFunction":"SHA-256"}`},
		{"cms no hash", "signCms", `{"certificateId":"` + id + `","hashFunction":"SHA-256"}`},
		{"cms hashes empty", "signCms", `{"certificateId":"` + id + `","hashes":[],"hashFunction":"SHA-256"}`},
		{"cms hash length", "signCms", `{"certificateId":"` + id + `","hash":"` + hash + `","hashFunction":"SHA-384"}`},
		{"cms hashFunction", "signCms", `{"certificateId":"` + id + `","hash":"` + hash + `","hashFunction":"MD5"}`},
		{"cms fileName number", "signCms", `{"certificateId":"` + id + `","hash":"` + hash + `","hashFunction":"SHA-256","fileName":3}`},
		{"cms fileName control", "signCms", `{"certificateId":"` + id + `","hash":"` + hash + `","hashFunction":"SHA-256","fileName":"a\nb"}`},
		{"cms pdf", "signCms", `{"certificateId":"` + id + `","pdf":"` + pdf + `","hashFunction":"SHA-256"}`},
		{"sign fileName", "sign", `{"certificateId":"` + id + `","hash":"` + hash + `","hashFunction":"SHA-256","fileName":"a.pdf"}`},
		{"signBatch fileName", "signBatch", `{"certificateId":"` + id + `","hashes":["` + hash + `"],"hashFunction":"SHA-256","fileName":"a.pdf"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.do(t.Context(), portal, `{"id":"p","op":"`+c.op+`","params":`+c.params+`}`)
			if r.Code() != protocol.BadRequest || r.ID != "p" {
				t.Fatalf("%s %s: %+v, want BAD_REQUEST", c.op, c.params[:min(len(c.params), 200)], r.Error)
			}
			t.Log(r.Error.Message)
		})
	}
	if n := len(h.pr.Calls()); n != 0 || h.prov.signed != 0 {
		t.Fatalf("refused requests opened %d dialogs, signed %d", n, h.prov.signed)
	}
}

// TestDocumentSize: the document operations take requests up to 64 MiB,
// the others keep 1 MiB.
func TestDocumentSize(t *testing.T) {
	h := newDocHarness(t)
	big := b64s(bytes.Repeat([]byte("not a PDF "), 300_000)) // 4 MiB of base64
	r := h.call(portal, "signPdf", map[string]any{"certificateId": h.prov.certs[0].ID, "pdf": big})
	if r.Code() != protocol.BadDocument || !strings.Contains(r.Error.Message, "not a PDF") {
		t.Fatalf("a 4 MiB signPdf: %+v, want BAD_DOCUMENT (past the size check)", r.Error)
	}
	r = h.call(portal, "sign", map[string]any{"certificateId": h.prov.certs[0].ID, "hash": big, "hashFunction": "SHA-256"})
	if r.Code() != protocol.BadRequest || !strings.Contains(r.Error.Message, "1 MiB") {
		t.Fatalf("a 4 MiB sign: %+v, want BAD_REQUEST (too large)", r.Error)
	}
	if len(h.pr.Calls()) != 0 {
		t.Fatal("a dialog opened")
	}

	// A real 2 MiB PDF (Debian's, eight times over, joined by qpdf): the
	// request and the answer are over 1 MiB, and the answer is whole.
	dir := t.TempDir()
	joined := filepath.Join(dir, "joined.pdf")
	args := []string{"--empty", "--pages"}
	src := readDoc(t, libtasn1PDF)
	for i := range 8 {
		// Copies under other names: qpdf shares what one file gives twice.
		f := filepath.Join(dir, fmt.Sprintf("copy%d.pdf", i))
		if err := os.WriteFile(f, src, 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, f)
	}
	if err := doctest.QPDF(false, append(args, "--", joined)...); err != nil {
		t.Fatal(err)
	}
	doc := readDoc(t, joined)
	out := h.e.Handle(t.Context(), portal, []byte(`{"id":"big","op":"signPdf","params":{"certificateId":"`+h.prov.certs[0].ID+`","pdf":"`+b64s(doc)+`"}}`), nil)
	var r2 reply
	if err := json.Unmarshal(out, &r2); err != nil || len(out) <= protocol.MaxMessage {
		t.Fatalf("answer of %d bytes: %v", len(out), err)
	}
	signed := unb64(t, result[pdfResult](t, r2).PDF)
	doctest.VerifyPDF(t, signed, h.pki.Root.Cert, 1, 0)
	t.Logf("a %d-byte PDF: request %d bytes, answer %d bytes", len(doc), len(b64s(doc))+100, len(out))
}

// TestSignPdfEngine: one PDF, then a list of two with one PIN; each
// verified by pdfsig, qpdf and openssl; the dialog names the documents,
// the signing record lists them by name and full SHA-256, with the holder.
func TestSignPdfEngine(t *testing.T) {
	h := newDocHarness(t)
	doc := readDoc(t, sharedMimePDF)
	c := h.prov.certs[0]
	r := h.call(portal, "signPdf", map[string]any{"certificateId": c.ID, "pdf": b64s(doc), "fileName": "spec.pdf",
		"reason": "Phê duyệt", "location": "Hà Nội", "description": "Hồ sơ 12"})
	out := unb64(t, result[pdfResult](t, r).PDF)
	if !bytes.Equal(out[:len(doc)], doc) {
		t.Fatal("the original bytes changed")
	}
	v := doctest.VerifyPDF(t, out, h.pki.Root.Cert, 1, 0)
	if cn := v[0].Fields["Signer Certificate Common Name"]; cn != "NGUYỄN VĂN AN" {
		t.Errorf("signer %q", cn)
	}
	if got := v[0].Fields["Signature Field Reason"]; got != "" && got != "Phê duyệt" {
		t.Errorf("reason %q", got)
	}
	pins := h.pr.PINCalls()
	if len(pins) != 1 || len(pins[0].Documents) != 1 {
		t.Fatalf("PIN dialogs %+v", pins)
	}
	d := pins[0].Documents[0]
	if d.FileName != "spec.pdf" || d.Pages < 2 || d.SHA256 != sha256.Sum256(doc) || d.Kind != "pdf" || pins[0].Description != "Hồ sơ 12" {
		t.Fatalf("the dialog shows %+v", d)
	}

	// Two documents, one PIN, the second invisible and on the first page.
	other := readDoc(t, libtasn1PDF)
	r = h.call(portal, "signPdf", map[string]any{"certificateId": h.prov.certs[1].ID, "documents": []map[string]any{
		{"pdf": b64s(out), "fileName": "spec-signed.pdf", "stamp": map[string]any{"page": 1, "rect": []int{36, 36, 200, 60}, "text": "Đã ký\nBộ phận một cửa"}},
		{"pdf": b64s(other), "fileName": "libtasn1.pdf", "stamp": nil},
	}})
	list := result[docListResult[pdfResult]](t, r)
	if len(list.Documents) != 2 || len(h.pr.PINCalls()) != 2 {
		t.Fatalf("%d documents, %d PIN dialogs", len(list.Documents), len(h.pr.PINCalls()))
	}
	doctest.VerifyPDF(t, unb64(t, list.Documents[0].PDF), h.pki.Root.Cert, 2, 0)
	doctest.VerifyPDF(t, unb64(t, list.Documents[1].PDF), h.pki.Root.Cert, 1, 0)

	recs := h.records(t)
	if len(recs) != 2 {
		t.Fatalf("%d signing records", len(recs))
	}
	if rec := recs[0]; rec.Op != "signPdf" || rec.Outcome != "OK" || rec.Subject != "NGUYỄN VĂN AN" || rec.Description != "Hồ sơ 12" ||
		len(rec.Items) != 1 || rec.Items[0].Document != "spec.pdf" || rec.Items[0].SHA256 != hex.EncodeToString(d.SHA256[:]) {
		t.Errorf("record %+v", rec)
	}
	if rec := recs[1]; len(rec.Items) != 2 || rec.Items[1].Document != "libtasn1.pdf" || rec.Subject == "" || rec.CertID != h.prov.certs[1].ID {
		t.Errorf("record %+v", rec)
	}
}

// TestBadDocumentsEngine: what the libraries refuse is BAD_DOCUMENT with
// its reason, before any dialog; the engine goes on serving.
func TestBadDocumentsEngine(t *testing.T) {
	h := newDocHarness(t)
	id := h.prov.certs[0].ID
	doc := readDoc(t, sharedMimePDF)
	enc := filepath.Join(t.TempDir(), "enc.pdf")
	if err := doctest.QPDF(false, "--encrypt", "user", "owner", "256", "--", sharedMimePDF, enc); err != nil {
		t.Fatal(err)
	}
	encrypted, _ := os.ReadFile(enc)
	invoice, err := os.ReadFile("../document/xmldsig/testdata/invoice.xml")
	if err != nil {
		t.Fatal(err)
	}
	xxe := `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>`
	laughs := `<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><l>&c;</l>`
	cases := []struct {
		name, op string
		params   map[string]any
		reason   string
	}{
		{"garbage", "signPdf", map[string]any{"pdf": b64s([]byte("hello, world"))}, "not a PDF"},
		{"truncated", "signPdf", map[string]any{"pdf": b64s(doc[:len(doc)/2])}, ""},
		{"encrypted", "signPdf", map[string]any{"pdf": b64s(encrypted)}, "encrypted"},
		{"page out of range", "signPdf", map[string]any{"pdf": b64s(doc), "stamp": map[string]any{"page": 999}}, "page 999"},
		{"image not an image", "signPdf", map[string]any{"pdf": b64s(doc), "stamp": map[string]any{"image": b64s([]byte("GIF89a..."))}}, "PNG or JPEG"},
		{"second of two encrypted", "signPdf", map[string]any{"documents": []map[string]any{{"pdf": b64s(doc)}, {"pdf": b64s(encrypted)}}}, "documents[1]: the PDF is encrypted"},
		{"xxe", "signXml", map[string]any{"xml": xxe}, "DOCTYPE"},
		{"billion laughs", "signXml", map[string]any{"xml": laughs}, "DOCTYPE"},
		{"not xml", "signXml", map[string]any{"xml": "{\"json\": true}"}, ""},
		{"reference not found", "signXml", map[string]any{"xml": string(invoice), "reference": "#nope"}, "nope"},
		{"parent not found", "signXml", map[string]any{"xml": string(invoice), "parent": "/HDon/DSCKS/CQT"}, "CQT"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.params["certificateId"] = id
			r := h.call(portal, c.op, c.params)
			if r.Code() != protocol.BadDocument || !strings.Contains(r.Error.Message, c.reason) {
				t.Fatalf("%+v, want BAD_DOCUMENT (%s)", r.Error, c.reason)
			}
			t.Log(r.Error.Message)
		})
	}
	if len(h.pr.Calls()) != 0 || h.prov.signed != 0 {
		t.Fatalf("%d dialogs, %d signatures for bad documents", len(h.pr.Calls()), h.prov.signed)
	}
	if recs := h.records(t); len(recs) != 0 {
		t.Fatalf("refusals before any dialog recorded: %+v", recs)
	}
	if r := h.call(portal, "version", nil); !r.OK {
		t.Fatalf("version after: %+v", r.Error)
	}
}

// TestTimestampEngine: with timestampUrl in the system policy, signPdf
// and signCms carry a timestamp from a real TSA (openssl ts -reply),
// verified by openssl ts -verify; a TSA that is down or answers garbage is
// TIMESTAMP_FAILED after the PIN, with nothing returned, and recorded.
func TestTimestampEngine(t *testing.T) {
	h := newDocHarness(t)
	ts := h.pki.NewTSA(t)
	policy := func(url string) {
		b, _ := json.Marshal(map[string]string{"timestampUrl": url})
		writeFile(t, h.paths.System, string(b))
	}
	doc := readDoc(t, sharedMimePDF)
	c := h.prov.certs[0]

	policy(ts.URL)
	out := unb64(t, result[pdfResult](t, h.call(portal, "signPdf", map[string]any{"certificateId": c.ID, "pdf": b64s(doc), "stamp": nil})).PDF)
	v := doctest.VerifyPDF(t, out, h.pki.Root.Cert, 1, 0)
	if v[0].Signed == nil || v[0].Signed.TimestampToken == nil {
		t.Fatal("no signature timestamp: not PAdES B-T")
	}
	ts.VerifyToken(t, v[0].Signed.TimestampToken, v[0].Signed.Signature)

	digest := sha256.Sum256([]byte("nội dung"))
	cr := result[cmsResult](t, h.call(portal, "signCms", map[string]any{"certificateId": c.ID, "hash": b64s(digest[:]), "hashFunction": "SHA-256"}))
	s, err := cms.Verify(unb64(t, cr.CMS), digest[:])
	if err != nil || s.TimestampToken == nil || s.SigningTime.IsZero() {
		t.Fatalf("signCms with a TSA: %+v, %v", s, err)
	}
	ts.VerifyToken(t, s.TimestampToken, s.Signature)

	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/timestamp-reply")
		w.Write([]byte("<html>502 Bad Gateway</html>"))
	}))
	defer garbage.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String() + "/tsr"
	l.Close() // nobody listens there now
	for name, url := range map[string]string{"garbage": garbage.URL, "down": down} {
		t.Run(name, func(t *testing.T) {
			policy(url)
			before := h.prov.signed
			r := h.call(portal, "signPdf", map[string]any{"certificateId": c.ID, "pdf": b64s(doc)})
			if r.Code() != protocol.TimestampFailed || r.Result != nil {
				t.Fatalf("signPdf: %+v, want TIMESTAMP_FAILED", r)
			}
			t.Log(r.Error.Message)
			r = h.call(portal, "signCms", map[string]any{"certificateId": c.ID, "hashes": []string{b64s(digest[:]), b64s(digest[:])}, "hashFunction": "SHA-256"})
			if r.Code() != protocol.TimestampFailed || r.Result != nil {
				t.Fatalf("signCms: %+v, want TIMESTAMP_FAILED", r)
			}
			if h.prov.signed != before+3 {
				t.Fatalf("%d signatures, want 3 (the token signed, the TSA failed)", h.prov.signed-before)
			}
			recs := h.records(t)
			if last := recs[len(recs)-1]; last.Outcome != "TIMESTAMP_FAILED" || last.Op != "signCms" || len(last.Items) != 2 || last.Items[0].Hash != hex.EncodeToString(digest[:]) {
				t.Fatalf("record %+v", last)
			}
		})
	}
	// signXml has no timestamp: it signs with the policy's TSA down.
	r := h.call(portal, "signXml", map[string]any{"certificateId": c.ID, "xml": "<a><b Id=\"x\">1</b></a>", "reference": "#x"})
	if !r.OK {
		t.Fatalf("signXml with the TSA down: %+v", r.Error)
	}
}

// TestSignCmsEngine: signCms's CMS verifies with openssl cms -verify
// -content (the content whose digest the page sent) against the test
// root, for one hash and for a list; SHA-224 and RSASSA-PSS are
// UNSUPPORTED_ALGORITHM before any dialog.
func TestSignCmsEngine(t *testing.T) {
	h := newDocHarness(t)
	dir := t.TempDir()
	content := []byte("Tờ khai thuế quý 2/2026\n")
	cf := filepath.Join(dir, "content.txt")
	os.WriteFile(cf, content, 0o600)
	root := doctest.WritePEM(t, dir, "root.pem", h.pki.Root.Cert)
	digest := sha256.Sum256(content)
	for i, c := range h.prov.certs {
		r := h.call(portal, "signCms", map[string]any{"certificateId": c.ID, "hash": b64s(digest[:]), "hashFunction": "SHA-256", "fileName": "to-khai.xml"})
		der := unb64(t, result[cmsResult](t, r).CMS)
		p7s := filepath.Join(dir, "sig.p7s")
		os.WriteFile(p7s, der, 0o600)
		out, err := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", p7s, "-content", cf,
			"-CAfile", root, "-purpose", "any", "-out", os.DevNull).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Verification successful") {
			t.Fatalf("key %d: openssl cms -verify: %v\n%s", i, err, out)
		}
		if d := h.pr.PINCalls()[i].Documents; len(d) != 1 || d[0].FileName != "to-khai.xml" || d[0].Kind != "cms" {
			t.Errorf("the dialog shows %+v", d)
		}
	}
	sha512 := sha256.Sum256([]byte("b"))
	list := result[cmsListResult](t, h.call(portal, "signCms", map[string]any{"certificateId": h.prov.certs[1].ID,
		"hashes": []string{b64s(digest[:]), b64s(sha512[:])}, "hashFunction": "SHA-256"}))
	if len(list.CMSList) != 2 {
		t.Fatalf("cmsList of %d", len(list.CMSList))
	}
	if _, err := cms.Verify(unb64(t, list.CMSList[1]), sha512[:]); err != nil {
		t.Fatal(err)
	}
	n := len(h.pr.Calls())
	h224 := base64.StdEncoding.EncodeToString(make([]byte, 28))
	if r := h.call(portal, "signCms", map[string]any{"certificateId": h.prov.certs[0].ID, "hash": h224, "hashFunction": "SHA-224"}); r.Code() != protocol.UnsupportedAlgorithm {
		t.Fatalf("SHA-224: %+v", r.Error)
	}
	if r := h.call(portal, "signCms", map[string]any{"certificateId": h.prov.certs[0].ID, "hash": b64s(digest[:]), "hashFunction": "SHA-256", "scheme": "RSASSA-PSS"}); r.Code() != protocol.UnsupportedAlgorithm {
		t.Fatalf("PSS: %+v", r.Error)
	}
	if len(h.pr.Calls()) != n {
		t.Fatal("a dialog opened for an unsupported algorithm")
	}
}

// TestSignXmlEngine: an invoice signed as the seller, then the list form;
// the document outside the new Signature is byte for byte the same, and
// the dialog shows the invoice's details.
func TestSignXmlEngine(t *testing.T) {
	h := newDocHarness(t)
	invoice, err := os.ReadFile("../document/xmldsig/testdata/invoice.xml")
	if err != nil {
		t.Fatal(err)
	}
	r := h.call(portal, "signXml", map[string]any{"certificateId": h.prov.certs[1].ID, "xml": string(invoice), "fileName": "hd-123.xml",
		"reference": "#DLHDon-1C26TKY-0000123", "parent": "/HDon/DSCKS/NBan", "signingTime": true})
	out := result[xmlResult](t, r).XML
	i := strings.Index(out, "<Signature")
	j := strings.Index(out, "</Signature>") + len("</Signature>")
	if i < 0 || j < i || out[:i]+out[j:] != strings.Replace(string(invoice), "<NBan/>", "<NBan></NBan>", 1) && out[:i]+out[j:] != string(invoice) {
		t.Fatalf("outside the signature the XML changed:\n%s", out)
	}
	if !strings.Contains(out, "SigningTime") || !strings.Contains(out, `URI="#DLHDon-1C26TKY-0000123"`) {
		t.Fatalf("signature %s", out[i:j])
	}
	d := h.pr.PINCalls()[0].Documents
	if len(d) != 1 || d[0].Kind != "xml" || d[0].FileName != "hd-123.xml" || len(d[0].Details) == 0 {
		t.Fatalf("the dialog shows %+v", d)
	}
	list := result[docListResult[xmlResult]](t, h.call(portal, "signXml", map[string]any{"certificateId": h.prov.certs[0].ID,
		"documents": []map[string]any{{"xml": string(invoice)}, {"xml": "<r><a Id=\"x\">ư</a></r>", "reference": "#x"}}}))
	if len(list.Documents) != 2 || !strings.Contains(list.Documents[1].XML, "<a Id=\"x\">ư</a>") {
		t.Fatalf("%+v", list)
	}
	if recs := h.records(t); len(recs) != 2 || recs[1].Items[1].SHA256 != hex.EncodeToString(sha(t, "<r><a Id=\"x\">ư</a></r>")) {
		t.Fatalf("records %+v", recs)
	}
}
