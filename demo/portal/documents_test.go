package portal

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/document"
	"kyso.vn/kyso/document/pdf"
	"kyso.vn/kyso/document/xmldsig"
	"kyso.vn/kyso/document/xmldsig/xmldsigtest"
)

// finish signs a prepared document with the test key, as the token would
// (the digest, PKCS#1 v1.5 or ECDSA DER), and builds the output.
func (p pki) finish(t *testing.T, prep document.Prepared) []byte {
	t.Helper()
	sig, err := p.key.Sign(rand.Reader, prep.Digest(), prep.Hash())
	if err != nil {
		t.Fatal(err)
	}
	out, err := prep.Finish(context.Background(), sig)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (p pki) signer() document.Signer {
	return document.Signer{Cert: p.leaf, Chain: []*x509.Certificate{p.ca}, Time: time.Now()}
}

func signPDF(t *testing.T, p pki, in []byte, o pdf.Options) []byte {
	t.Helper()
	prep, err := pdf.Prepare(in, p.signer(), o)
	if err != nil {
		t.Fatal(err)
	}
	return p.finish(t, prep)
}

// The sample PDF is well formed for qpdf, small, and at least the size
// asked for when padded.
func TestSamplePDF(t *testing.T) {
	small := SamplePDF(0)
	big := SamplePDF(3 << 20)
	if len(small) > 4096 || len(big) < 3<<20 || len(big) > 3<<20+8192 {
		t.Fatalf("sizes %d and %d", len(small), len(big))
	}
	for name, b := range map[string][]byte{"small": small, "big": big} {
		qpdfCheck(t, name, b)
	}
}

func qpdfCheck(t *testing.T, name string, b []byte) {
	t.Helper()
	if _, err := exec.LookPath("qpdf"); err != nil {
		t.Fatal("qpdf is needed (Debian package qpdf, scripts/deps.sh)")
	}
	f := filepath.Join(t.TempDir(), name+".pdf")
	os.WriteFile(f, b, 0o600)
	out, err := exec.Command("qpdf", "--check", f).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "No syntax or stream encoding errors") {
		t.Fatalf("qpdf --check %s: %v\n%s", name, err, out)
	}
}

// eachKey runs f with an RSA and an ECDSA signer.
func eachKey(t *testing.T, f func(t *testing.T, p pki)) {
	for name, key := range map[string]crypto.Signer{"rsa": rsaKey(t), "ecdsa": ecKey(t)} {
		t.Run(name, func(t *testing.T) { f(t, valid(t, key)) })
	}
}

func TestVerifyPDF(t *testing.T) {
	eachKey(t, func(t *testing.T, p pki) {
		orig := SamplePDF(0)
		signed := signPDF(t, p, orig, pdf.Options{FileName: "van-ban-mau.pdf", Reason: "Phê duyệt văn bản", Location: "Hà Nội", Stamp: &pdf.Stamp{Page: -1}})
		res := VerifyPDF(signed, time.Now())
		if !res.Valid || !res.WholeFile || res.Signatures != 1 || res.SubFilter != "ETSI.CAdES.detached" {
			t.Fatalf("%+v", res)
		}
		if res.Signer.Holder != "NGUYỄN VĂN AN" || !res.Chain.OK || res.SigReason != "Phê duyệt văn bản" || res.Location != "Hà Nội" || res.SigningTime == "" {
			t.Fatalf("%+v %+v", res.Signer, res)
		}
		// A second signature: the last one is checked and covers all.
		twice := signPDF(t, p, signed, pdf.Options{})
		if r := VerifyPDF(twice, time.Now()); !r.Valid || r.Signatures != 2 {
			t.Fatalf("second signature: %+v", r)
		}
		// Bytes appended after signing: not the whole file.
		if r := VerifyPDF(append(bytes.Clone(signed), "% more\n"...), time.Now()); r.Valid || r.WholeFile {
			t.Fatalf("appended: %+v", r)
		}
		// One signed byte changed: the digest no longer matches.
		bad := bytes.Clone(signed)
		i := bytes.Index(bad, []byte("VAN BAN MAU"))
		bad[i] = 'X'
		if r := VerifyPDF(bad, time.Now()); r.Valid || !strings.Contains(r.Reason, "CMS") {
			t.Fatalf("changed: %+v", r)
		}
		if r := VerifyPDF(orig, time.Now()); r.Valid || r.Signatures != 0 {
			t.Fatalf("unsigned: %+v", r)
		}
	})
}

// The PDF page's API: the signed body, the original's hash and size.
func TestVerifyPDFHandler(t *testing.T) {
	srv := newServer(t)
	p := valid(t, rsaKey(t))
	resp, err := http.Get(srv.URL + "/api/pdf-mau")
	if err != nil {
		t.Fatal(err)
	}
	var orig bytes.Buffer
	orig.ReadFrom(resp.Body)
	resp.Body.Close()
	signed := signPDF(t, p, orig.Bytes(), pdf.Options{Stamp: &pdf.Stamp{Page: -1}})
	post := func(origBytes []byte) PDFResult {
		sum := sha256.Sum256(origBytes)
		u := srv.URL + "/api/kiem-tra-pdf?goc=" + hex.EncodeToString(sum[:]) + "&kichThuoc=" + strconv.Itoa(len(origBytes))
		resp, err := http.Post(u, "application/pdf", bytes.NewReader(signed))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var res PDFResult
		if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := post(orig.Bytes()); !res.Valid || res.OriginalKept == nil || !*res.OriginalKept {
		t.Fatalf("%+v", res)
	}
	other := bytes.Clone(orig.Bytes())
	other[20] ^= 1
	if res := post(other); res.Valid || *res.OriginalKept {
		t.Fatalf("another original passed: %+v", res)
	}
}

func signInvoice(t *testing.T, p pki, doc []byte) []byte {
	t.Helper()
	prep, err := xmldsig.Prepare(doc, p.signer(), xmldsig.Options{
		FileName: "hoa-don.xml", Reference: xmldsigtest.InvoiceReference, Parent: xmldsigtest.InvoiceParent, SigningTime: true})
	if err != nil {
		t.Fatal(err)
	}
	return p.finish(t, prep)
}

func TestVerifyInvoice(t *testing.T) {
	if _, err := exec.LookPath("xmlsec1"); err != nil {
		t.Fatal("xmlsec1 is needed (Debian package xmlsec1, scripts/deps.sh)")
	}
	s := &server{o: Options{Log: zerolog.Nop(), Now: time.Now}}
	eachKey(t, func(t *testing.T, p pki) {
		chain := []string{b64(p.ca.Raw)}
		signed := signInvoice(t, p, xmldsigtest.Invoice(0))
		res := s.VerifyInvoice(context.Background(), signed, chain)
		if !res.Valid {
			t.Fatalf("%+v\n%s", res, signed)
		}
		inv := res.Invoice
		if inv.Seller != "Công ty Cổ phần Kiểm thử Kyso" || inv.Number != "123" || inv.Series != "1C26TKY" || inv.Total == "" || res.SigningTime == "" || res.Signer.Holder != "NGUYỄN VĂN AN" {
			t.Fatalf("%+v %+v", inv, res)
		}
		// A changed total: xmlsec1 refuses.
		bad := bytes.Replace(signed, []byte("<TgTTTBSo>"+inv.Total), []byte("<TgTTTBSo>1"+inv.Total), 1)
		if r := s.VerifyInvoice(context.Background(), bad, chain); r.Valid || !strings.Contains(r.Reason, "xmlsec1") {
			t.Fatalf("changed total: %+v", r)
		}
		// Another CA: not trusted.
		other := valid(t, rsaKey(t))
		if r := s.VerifyInvoice(context.Background(), signed, []string{b64(other.ca.Raw)}); r.Valid {
			t.Fatalf("foreign CA: %+v", r)
		}
	})
	p := valid(t, rsaKey(t))
	for name, doc := range map[string][]byte{
		"unsigned":   xmldsigtest.Invoice(0),
		"doctype":    append([]byte(`<!DOCTYPE HDon [<!ENTITY x SYSTEM "file:///etc/passwd">]>`), xmldsigtest.Invoice(0)[39:]...),
		"not xml":    []byte("<HDon><DLHDon"),
		"two DLHDon": bytes.Replace(signInvoice(t, p, xmldsigtest.Invoice(0)), []byte("<DSCKS>"), []byte(`<DSCKS><X><DLHDon Id="DLHDon-1C26TKY-0000123"/></X>`), 1),
	} {
		if r := s.VerifyInvoice(context.Background(), doc, []string{b64(p.ca.Raw)}); r.Valid || r.Reason == "" {
			t.Errorf("%s: %+v", name, r)
		}
	}
}

func ecKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
