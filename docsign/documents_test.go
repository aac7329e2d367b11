//go:build linux && cgo

package docsign

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"kyso.vn/kyso/document/cms"
	"kyso.vn/kyso/internal/doctest"
	"kyso.vn/kyso/internal/testenv"
	"kyso.vn/kyso/protocol"
)

type (
	pdfResult     struct{ PDF string }
	pdfListResult struct{ Documents []pdfResult }
	xmlResult     struct{ XML string }
	cmsResult     struct{ CMS string }
	cmsListResult struct{ CMSList []string }
)

// TestDocuments signs PDFs, CMS and XML through one agent, each with the
// PIN typed into the real dialog, and checks every output with outside
// tools against the test CA.
func TestDocuments(t *testing.T) {
	display := testenv.Display(t)
	a, c := startAgent(t, display, nil)
	tk := tokens(t)
	ca := cert(t, testenv.CertCA)
	rsa, ec, rsa3072 := certID(t, testenv.CertRSA), certID(t, testenv.CertEC), certID(t, testenv.CertRSA3072)
	dir := t.TempDir()

	var signedOnce []byte // shared-mime-info-spec.pdf signed once, for the successive signatures
	t.Run("pdf/dialog names the document", func(t *testing.T) {
		doc := readFile(t, libtasn1PDF)
		send(t, c, "d", "signPdf", map[string]any{"certificateId": rsa, "pdf": b64(doc), "fileName": "libtasn1.pdf",
			"reason": "Phê duyệt", "location": "Hà Nội", "description": "Hồ sơ số 12"})
		// OCR reads the dialog as a person sees it (the picture stays in
		// the test's folder): the file name, "N trang" (pages).
		var text string
		for try := 0; try < 5 && !strings.Contains(text, "libtasn1"); try++ {
			time.Sleep(300 * time.Millisecond) // the window maps before GTK draws it
			text = testenv.WindowText(t, display, pinTitle, t.ArtifactDir(), "pdf-dialog")
		}
		testenv.AnswerPIN(t, display, pinTitle, docPIN)
		out := unb64(t, result[pdfResult](t, read(t, c)).PDF)
		// OCR may put a space inside a word: compare without spaces.
		sum := sha256.Sum256(doc)
		flat := strings.ReplaceAll(text, " ", "")
		for _, want := range []string{"libtasn1.pdf", pdfPages(t, libtasn1PDF) + "trang", hex.EncodeToString(sum[:8])} {
			if !strings.Contains(flat, want) {
				t.Errorf("the PIN dialog does not show %q; OCR read:\n%s", want, text)
			}
		}
		checkPDF(t, doc, out, ca, 1, "NGUYỄN VĂN AN")
	})
	t.Run("pdf/Debian PDFs", func(t *testing.T) {
		mime := readFile(t, sharedMimePDF)
		classic := filepath.Join(dir, "shared-mime-info-classic.pdf")
		if err := doctest.QPDF(false, "--object-streams=disable", sharedMimePDF, classic); err != nil {
			t.Fatal(err)
		}
		classicDoc, _ := os.ReadFile(classic)
		for name, doc := range map[string][]byte{"shared-mime-info-spec.pdf": mime, "classic xref": classicDoc} {
			out := unb64(t, signed[pdfResult](t, c, display, "signPdf", map[string]any{"certificateId": rsa, "pdf": b64(doc), "fileName": name}).PDF)
			checkPDF(t, doc, out, ca, 1, "NGUYỄN VĂN AN")
			if name == "shared-mime-info-spec.pdf" {
				signedOnce = out
			}
		}
	})
	t.Run("pdf/successive signatures", func(t *testing.T) {
		if signedOnce == nil {
			t.Skip("no signed PDF to start from")
		}
		two := unb64(t, signed[pdfResult](t, c, display, "signPdf", map[string]any{"certificateId": ec, "pdf": b64(signedOnce),
			"stamp": map[string]any{"page": 1, "rect": []int{36, 120, 220, 70}}}).PDF)
		checkPDF(t, signedOnce, two, ca, 2, "TRẦN THỊ BÌNH")
		three := unb64(t, signed[pdfResult](t, c, display, "signPdf", map[string]any{"certificateId": rsa3072, "pdf": b64(two), "stamp": nil}).PDF)
		checkPDF(t, two, three, ca, 3, "LÊ VĂN CƯỜNG")
	})
	t.Run("pdf/three documents, one PIN", func(t *testing.T) {
		g := groffPDF(t)
		gf := filepath.Join(dir, "groff.pdf")
		os.WriteFile(gf, g, 0o600)
		if err := doctest.QPDF(false, "--object-streams=generate", gf, filepath.Join(dir, "groff-objstm.pdf")); err != nil {
			t.Fatal(err)
		}
		objstm, _ := os.ReadFile(filepath.Join(dir, "groff-objstm.pdf"))
		mime := readFile(t, sharedMimePDF)
		docs := [][]byte{g, objstm, mime}
		res := signed[pdfListResult](t, c, display, "signPdf", map[string]any{"certificateId": ec, "description": "Ba văn bản",
			"documents": []map[string]any{{"pdf": b64(g), "fileName": "a.pdf"}, {"pdf": b64(objstm), "fileName": "b.pdf", "stamp": nil},
				{"pdf": b64(mime), "fileName": "c.pdf", "stamp": map[string]any{"page": 2, "text": "Đã ký số"}}}})
		if len(res.Documents) != 3 {
			t.Fatalf("%d documents back", len(res.Documents))
		}
		for i, d := range res.Documents {
			checkPDF(t, docs[i], unb64(t, d.PDF), ca, 1, "TRẦN THỊ BÌNH")
		}
		if testenv.HasWindow(t, display, pinTitle) {
			t.Fatal("a second PIN dialog for the same operation")
		}
	})
	t.Run("cms", func(t *testing.T) {
		content := []byte("Tờ khai thuế GTGT quý 2/2026 — nội dung portal tự ký\n")
		cf := filepath.Join(dir, "content.bin")
		os.WriteFile(cf, content, 0o600)
		d := sha256.Sum256(content)
		other := sha256.Sum256([]byte("second file"))
		for _, id := range []string{rsa, ec} {
			r := signed[cmsResult](t, c, display, "signCms", map[string]any{"certificateId": id, "hash": b64(d[:]), "hashFunction": "SHA-256", "fileName": "to-khai.xml"})
			p7s := filepath.Join(dir, "sig.p7s")
			os.WriteFile(p7s, unb64(t, r.CMS), 0o600)
			out := run(t, "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", p7s, "-content", cf,
				"-CAfile", tk.CACert, "-purpose", "any", "-out", os.DevNull)
			if !bytes.Contains(out, []byte("Verification successful")) {
				t.Fatalf("openssl cms -verify: %s", out)
			}
			s, err := cms.Verify(unb64(t, r.CMS), d[:])
			if err != nil || s.SigningTime.IsZero() || !s.SigningCertificateV2 {
				t.Fatalf("cms.Verify: %+v, %v", s, err)
			}
		}
		list := signed[cmsListResult](t, c, display, "signCms", map[string]any{"certificateId": rsa, "hashes": []string{b64(d[:]), b64(other[:])}, "hashFunction": "SHA-256"})
		if len(list.CMSList) != 2 {
			t.Fatalf("cmsList of %d", len(list.CMSList))
		}
		if _, err := cms.Verify(unb64(t, list.CMSList[1]), other[:]); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("xml", func(t *testing.T) {
		invoice, err := os.ReadFile("../document/xmldsig/testdata/invoice.xml")
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range []struct{ name, id string }{{"RSA", rsa}, {"ECDSA", ec}} {
			for _, shape := range []struct {
				name   string
				params map[string]any
				idAttr []string
			}{
				{"DLHDon with signing time", map[string]any{"reference": "#DLHDon-1C26TKY-0000123", "parent": "/HDon/DSCKS/NBan", "signingTime": true}, []string{"--id-attr:Id", "DLHDon"}},
				{"whole document", map[string]any{"parent": "/HDon/DSCKS/NBan"}, nil},
			} {
				t.Run(key.name+"/"+shape.name, func(t *testing.T) {
					p := map[string]any{"certificateId": key.id, "xml": string(invoice), "fileName": "hd-0000123.xml"}
					for k, v := range shape.params {
						p[k] = v
					}
					out := signed[xmlResult](t, c, display, "signXml", p).XML
					sigID := checkOutsideXML(t, invoice, out)
					if ok, msg := xmlsec(t, tk.CACert, out, sigID, shape.idAttr...); !ok {
						t.Fatalf("xmlsec1 --verify: %s\n%s", msg, out)
					}
					bad := strings.Replace(out, "1296000", "1296001", 1)
					if bad == out {
						t.Fatal("no amount 1296000 to change")
					}
					if ok, _ := xmlsec(t, tk.CACert, bad, sigID, shape.idAttr...); ok {
						t.Fatal("xmlsec1 accepted the invoice with its total changed")
					}
				})
			}
		}
	})
	t.Run("hostile documents", func(t *testing.T) {
		enc := filepath.Join(dir, "enc.pdf")
		if err := doctest.QPDF(false, "--encrypt", "u", "o", "256", "--", sharedMimePDF, enc); err != nil {
			t.Fatal(err)
		}
		encrypted, _ := os.ReadFile(enc)
		for name, req := range map[string]struct {
			op     string
			params map[string]any
		}{
			"xxe":            {"signXml", map[string]any{"xml": `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>`}},
			"billion laughs": {"signXml", map[string]any{"xml": `<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><l>&c;</l>`}},
			"encrypted pdf":  {"signPdf", map[string]any{"pdf": b64(encrypted)}},
			"truncated pdf":  {"signPdf", map[string]any{"pdf": b64(readFile(t, libtasn1PDF)[:100_000])}},
		} {
			req.params["certificateId"] = rsa
			r := refused(t, c, req.op, req.params)
			if r.Code() != protocol.BadDocument {
				t.Errorf("%s: %+v, want BAD_DOCUMENT", name, r)
			} else {
				t.Logf("%s: %s", name, r.Error.Message)
			}
		}
		if testenv.HasWindow(t, display, "^Kyso") {
			t.Error("a dialog opened for a refused document")
		}
		if r := refused(t, c, "version", nil); !r.OK || !strings.Contains(string(r.Result), "signXml") {
			t.Fatalf("version after hostile documents: %+v", r)
		}
		_ = a
	})
}

// checkPDF checks a signed PDF: the original bytes untouched, then
// doctest.VerifyPDF (pdfsig: every signature valid, the last over the
// whole file; qpdf --check; openssl cms -verify over the ByteRange
// trusting only the test CA), and the last signer as pdfsig names it.
func checkPDF(t testing.TB, in, out []byte, ca *x509.Certificate, n int, signer string) {
	t.Helper()
	if len(out) <= len(in) || !bytes.Equal(out[:len(in)], in) {
		t.Fatal("the signed PDF does not start with the original bytes")
	}
	v := doctest.VerifyPDF(t, out, ca, n, 0)
	if cn := v[n-1].Fields["Signer Certificate Common Name"]; cn != signer {
		t.Errorf("pdfsig names the signer %q, want %q", cn, signer)
	}
}

var sigIDRE = regexp.MustCompile(`<Signature xmlns="http://www.w3.org/2000/09/xmldsig#" Id="([^"]+)">`)

// checkOutsideXML checks that the signed XML is the input plus one
// Signature element (a self-closing parent written open), and returns the
// Signature's Id.
func checkOutsideXML(t testing.TB, in []byte, out string) string {
	t.Helper()
	m := sigIDRE.FindStringSubmatchIndex(out)
	j := strings.Index(out, "</Signature>")
	if m == nil || j < m[0] {
		t.Fatalf("no Signature in\n%s", out)
	}
	rest := out[:m[0]] + out[j+len("</Signature>"):]
	if rest != string(in) && rest != strings.Replace(string(in), "<NBan/>", "<NBan></NBan>", 1) {
		t.Fatalf("outside the Signature the XML changed:\n%s", rest)
	}
	return out[m[2]:m[3]]
}

// xmlsec runs Debian's xmlsec1 --verify on doc for the Signature sigID,
// trusting only caFile.
func xmlsec(t testing.TB, caFile, doc, sigID string, idAttr ...string) (bool, string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "signed.xml")
	if err := os.WriteFile(f, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--verify", "--trusted-pem", caFile,
		"--id-attr:Id", "http://www.w3.org/2000/09/xmldsig#:Signature", "--node-id", sigID}, idAttr...)
	out, err := exec.Command("xmlsec1", append(args, f)...).CombinedOutput()
	return err == nil, string(out)
}

// pdfPages is the page count pdfinfo (poppler) reads.
func pdfPages(t testing.TB, path string) string {
	t.Helper()
	for _, l := range strings.Split(string(run(t, "pdfinfo", path)), "\n") {
		if v, ok := strings.CutPrefix(l, "Pages:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("pdfinfo %s: no page count", path)
	return ""
}
