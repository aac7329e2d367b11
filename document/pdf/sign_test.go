package pdf_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"kyso.vn/kyso/document"
	"kyso.vn/kyso/document/pdf"
	"kyso.vn/kyso/document/tsa"
	"kyso.vn/kyso/internal/doctest"
)

// pdfinfo reads a field of poppler's pdfinfo (independent of our reader).
func pdfinfo(t *testing.T, path, field string) string {
	t.Helper()
	out, err := run("pdfinfo", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == field {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// TestSignCorpus signs every PDF of the corpus (a visible default stamp,
// keys of every kind in turn) and has the output checked by pdfsig, qpdf
// and openssl; the Summary agrees with pdfinfo.
func TestSignCorpus(t *testing.T) {
	c := getCorpus(t)
	names := make([]string, 0, len(c))
	for n := range c {
		names = append(names, n)
	}
	slices.Sort(names)
	kinds := []string{doctest.RSA2048, doctest.P256, doctest.RSA3072, doctest.P384, doctest.RSA4096}
	for i, name := range names {
		kind := kinds[i%len(kinds)]
		t.Run(name+"/"+kind, func(t *testing.T) {
			data := readCorpus(t, name)
			p := doctest.Get(t)
			id := p.Signer(t, kind)
			opts := pdf.Options{FileName: name + ".pdf", Reason: "Phê duyệt", Location: "Bắc Ninh", ContactInfo: "an.nv@bacninh.gov.vn", Stamp: &pdf.Stamp{Page: -1}}
			prep, err := pdf.Prepare(data, p.DocSigner(id), opts)
			if err != nil {
				t.Fatal(err)
			}
			sum := prep.Summary()
			if sum.Kind != "pdf" || sum.FileName != name+".pdf" || sum.SHA256 != sha256.Sum256(data) {
				t.Errorf("summary %+v", sum)
			}
			if want := pdfinfo(t, c[name], "Pages"); strconv.Itoa(sum.Pages) != want {
				t.Errorf("%d pages, pdfinfo says %s", sum.Pages, want)
			}
			if want := pdfinfo(t, c[name], "Title"); sum.Title != want {
				t.Errorf("title %q, pdfinfo says %q", sum.Title, want)
			}
			out, err := prep.Finish(context.Background(), doctest.SignPrepared(t, prep, id.Key))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out[:len(data)], data) {
				t.Fatal("the original bytes changed")
			}
			v := verifyPDF(t, out, 1, 0)[0]
			if cn := v.Fields["Signer Certificate Common Name"]; cn != "NGUYỄN VĂN AN" {
				t.Errorf("signer %q", cn)
			}
			if !v.Signed.Signer.Equal(id.Cert) || len(v.Signed.Certificates) != 3 {
				t.Errorf("CMS signer or chain wrong")
			}
			if got := v.Fields["Signing Time"]; got != "Mar 09 2026 07:05:09" {
				t.Errorf("signing time %q (pdfsig shows /M in UTC)", got)
			}
		})
	}
}

// TestInvisible: no stamp, the widget has an empty rectangle on page 1.
func TestInvisible(t *testing.T) {
	for _, name := range []string{"libtasn1", "hybrid", "shared-mime-info-linearized"} {
		t.Run(name, func(t *testing.T) {
			out := signWith(t, readCorpus(t, name), doctest.P256, pdf.Options{})
			verifyPDF(t, out, 1, 0)
			if !bytes.Contains(out[max(0, len(out)-20000):], []byte("/Rect [0 0 0 0]")) {
				t.Error("no empty widget rectangle")
			}
		})
	}
}

// TestSuccessiveSignatures: two and three signatures on the same PDF (an
// xref-stream file and a classic one), each earlier one still valid.
func TestSuccessiveSignatures(t *testing.T) {
	for _, name := range []string{"shared-mime-info", "groff"} {
		t.Run(name, func(t *testing.T) {
			data := readCorpus(t, name)
			kinds := []string{doctest.RSA2048, doctest.P256, doctest.RSA4096}
			for i, kind := range kinds {
				opts := pdf.Options{}
				if i != 1 {
					opts.Stamp = &pdf.Stamp{Page: i + 1, Rect: [4]float64{40, 40 + 80*float64(i), 220, 70}}
				}
				data = signWith(t, data, kind, opts)
				vs := verifyPDF(t, data, i+1, 0)
				for j, v := range vs {
					if want := "Signature" + strconv.Itoa(j+1); v.Fields["Signature Field Name"] != want {
						t.Errorf("signature %d in field %q, want %s", j+1, v.Fields["Signature Field Name"], want)
					}
				}
			}
		})
	}
}

// TestSignedByPoppler: a PDF first signed by another tool (poppler's
// pdfsig, adbe.pkcs7.detached, from an NSS database) gets Kyso's signature
// and poppler's stays valid.
func TestSignedByPoppler(t *testing.T) {
	if _, err := exec.LookPath("certutil"); err != nil {
		t.Skip("certutil (libnss3-tools) not installed; scripts/deps.sh installs it")
	}
	p := doctest.Get(t)
	id := p.Signer(t, doctest.RSA2048)
	dir := t.TempDir()
	db := "sql:" + dir
	key := doctest.WriteKey(t, dir, "key.pem", id.Key)
	cert := doctest.WritePEM(t, dir, "cert.pem", id.Cert)
	p12 := filepath.Join(dir, "id.p12")
	steps := [][]string{
		{"certutil", "-N", "-d", db, "--empty-password"},
		{"openssl", "pkcs12", "-export", "-inkey", key, "-in", cert, "-name", "signer", "-out", p12, "-passout", "pass:x"},
		{"pk12util", "-i", p12, "-d", db, "-W", "x"},
	}
	for _, s := range steps {
		if _, err := run(s[0], s[1:]...); err != nil {
			t.Fatal(err)
		}
	}
	in := getCorpus(t)["groff"]
	signed := filepath.Join(dir, "poppler.pdf")
	if _, err := run("pdfsig", "-nssdir", db, "-add-signature", "-nick", "signer", "-reason", "poppler", in, signed); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(signed)
	if err != nil {
		t.Fatal(err)
	}
	verifyPDF(t, data, 1, 1)
	out := signWith(t, data, doctest.P256, pdf.Options{Stamp: &pdf.Stamp{Page: 1}})
	verifyPDF(t, out, 2, 1)
}

// TestTimestampBT: PAdES B-T with a real TSA (openssl ts -reply); the
// token is over the signature value and checks with openssl ts -verify.
func TestTimestampBT(t *testing.T) {
	p := doctest.Get(t)
	ts := p.NewTSA(t)
	for _, kind := range []string{doctest.RSA4096, doctest.P256} {
		t.Run(kind, func(t *testing.T) {
			data := readCorpus(t, "ghostscript-1.7")
			out := signWith(t, data, kind, pdf.Options{Timestamper: tsa.New(ts.URL), Stamp: &pdf.Stamp{Page: -1}})
			v := verifyPDF(t, out, 1, 0)[0]
			tok := v.Signed.TimestampToken
			if tok == nil {
				t.Fatal("no signature-time-stamp-token")
			}
			ts.VerifyToken(t, tok, v.Signed.Signature)
			// B-T on top of B-T: both stay valid.
			out2 := signWith(t, out, kind, pdf.Options{Timestamper: tsa.New(ts.URL)})
			verifyPDF(t, out2, 2, 0)
		})
	}
}

// TestTimestampFailures: a TSA down, answering garbage or a token over
// another imprint gives TIMESTAMP_FAILED and no output; the token is asked
// for once (the PDF is never prepared twice).
func TestTimestampFailures(t *testing.T) {
	p := doctest.Get(t)
	id := p.Signer(t, doctest.P256)
	ts := p.NewTSA(t)
	data := readCorpus(t, "groff")
	for _, mode := range []string{"garbage", "http500", "other", "down"} {
		t.Run(mode, func(t *testing.T) {
			ts.Mode.Store(mode)
			defer ts.Mode.Store("")
			c := tsa.New(ts.URL)
			if mode == "down" {
				c.URL = "http://127.0.0.1:1/"
			}
			before := ts.Requests.Load()
			prep, err := pdf.Prepare(data, p.DocSigner(id), pdf.Options{Timestamper: c})
			if err != nil {
				t.Fatal(err)
			}
			out, err := prep.Finish(context.Background(), doctest.SignPrepared(t, prep, id.Key))
			if out != nil || !document.IsCode(err, document.CodeTimestampFailed) {
				t.Fatalf("%d bytes, %v: want TIMESTAMP_FAILED and nothing", len(out), err)
			}
			t.Log(err)
			if n := ts.Requests.Load() - before; mode != "down" && n != 1 {
				t.Errorf("%d requests to the TSA, want 1", n)
			}
		})
	}
}

// TestBadDocuments: every refused input is BAD_DOCUMENT with a reason.
func TestBadDocuments(t *testing.T) {
	p := doctest.Get(t)
	id := p.Signer(t, doctest.P256)
	s := p.DocSigner(id)
	good := readCorpus(t, "ghostscript-1.5")
	classic := readCorpus(t, "groff")
	cases := map[string][]byte{
		"empty":        {},
		"garbage":      bytes.Repeat([]byte("not a pdf "), 100),
		"html":         []byte("<!DOCTYPE html><html><body>404 Not Found</body></html>"),
		"header only":  []byte("%PDF-1.7\n"),
		"no eof":       classic[:len(classic)-7],
		"xref damaged": bytes.Replace(classic, []byte("0000000015 00000 n"), []byte("0000000016 00000 n"), 1),
		"lf to crlf":   bytes.ReplaceAll(classic, []byte("\n"), []byte("\r\n")),
	}
	for _, frac := range []int{1, 10, 25, 50, 75, 90, 99} {
		cases[fmt.Sprintf("truncated at %d%%", frac)] = good[:len(good)*frac/100]
	}
	cases["truncated classic at 60%"] = classic[:len(classic)*60/100]
	dir := t.TempDir()
	enc := filepath.Join(dir, "enc.pdf")
	if err := qpdf("--encrypt", "user", "owner", "256", "--", getCorpus(t)["groff"], enc); err != nil {
		t.Fatal(err)
	}
	cases["encrypted"], _ = os.ReadFile(enc)
	encOwner := filepath.Join(dir, "enc-owner.pdf")
	if err := qpdf("--encrypt", "", "owner", "128", "--use-aes=y", "--print=none", "--", getCorpus(t)["groff"], encOwner); err != nil {
		t.Fatal(err)
	}
	cases["encrypted, owner password only"], _ = os.ReadFile(encOwner)
	for _, perm := range []int{1, 2} {
		cases[fmt.Sprintf("certified P=%d", perm)] = signWith(t, classic, doctest.RSA2048, pdf.Certify(pdf.Options{}, perm))
	}
	cases["no pages"] = minimalPDF("<< /Type /Pages /Kids [] /Count 0 >>")
	cases["missing page object"] = minimalPDF("<< /Type /Pages /Kids [9 0 R] /Count 1 >>")
	cases["page tree loop"] = minimalPDF("<< /Type /Pages /Kids [2 0 R] /Count 1 >>")
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			prep, err := pdf.Prepare(data, s, pdf.Options{Stamp: &pdf.Stamp{Page: -1}})
			if prep != nil || !isBad(t, err) {
				t.Fatalf("got %v, %v; want BAD_DOCUMENT", prep, err)
			}
		})
	}
	// Stamp parameters that do not fit the document.
	for name, st := range map[string]pdf.Stamp{
		"page out of range":   {Page: 4},
		"page -2":             {Page: -2},
		"rect outside":        {Page: 1, Rect: [4]float64{500, 700, 220, 70}},
		"rect negative":       {Page: 1, Rect: [4]float64{-10, 10, 100, 50}},
		"rect empty":          {Page: 1, Rect: [4]float64{10, 10, 0, 50}},
		"image not an image":  {Page: 1, Image: []byte("GIF89a....")},
		"image huge":          {Page: 1, Image: hugePNGHeader()},
		"image truncated PNG": {Page: 1, Image: sealPNG(t)[:200]},
	} {
		t.Run(name, func(t *testing.T) {
			prep, err := pdf.Prepare(classic, s, pdf.Options{Stamp: &st})
			if prep != nil || !isBad(t, err) {
				t.Fatalf("got %v, %v; want BAD_DOCUMENT", prep, err)
			}
		})
	}
	// A certification that allows annotations (P=3) does not stop Kyso.
	certified3 := signWith(t, classic, doctest.RSA2048, pdf.Certify(pdf.Options{}, 3))
	out := signWith(t, certified3, doctest.P256, pdf.Options{Stamp: &pdf.Stamp{Page: 2}})
	verifyPDF(t, out, 2, 0)
}

// minimalPDF is a one-object-tree PDF whose page tree root (object 2) is
// pages, for the broken-page-tree cases.
func minimalPDF(pages string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	off1 := b.Len()
	b.WriteString("1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n")
	off2 := b.Len()
	fmt.Fprintf(&b, "2 0 obj\n%s\nendobj\n", pages)
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 3\n0000000000 65535 f\r\n%010d 00000 n\r\n%010d 00000 n\r\ntrailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", off1, off2, xref)
	return b.Bytes()
}

// hugePNGHeader is a PNG whose (valid) header claims 60000×60000 pixels
// and that holds no pixel data.
func hugePNGHeader() []byte {
	ihdr := []byte("IHDR\x00\x00\xea\x60\x00\x00\xea\x60\x08\x06\x00\x00\x00")
	b := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0d")
	b = append(b, ihdr...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(ihdr))
}

func sealPNG(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/seal.png")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPrepareDoesNotTouchInput: Prepare and Finish leave the caller's
// slice as it was, and Finish can be asked more than once (the engine
// never does, but a second output must be the same document).
func TestPrepareDoesNotTouchInput(t *testing.T) {
	p := doctest.Get(t)
	id := p.Signer(t, doctest.P256)
	data := readCorpus(t, "groff")
	orig := bytes.Clone(data)
	prep, err := pdf.Prepare(data, p.DocSigner(id), pdf.Options{Stamp: &pdf.Stamp{}})
	if err != nil {
		t.Fatal(err)
	}
	sig := doctest.SignPrepared(t, prep, id.Key)
	a, err := prep.Finish(context.Background(), sig)
	if err != nil {
		t.Fatal(err)
	}
	b, err := prep.Finish(context.Background(), sig)
	if err != nil || !bytes.Equal(a, b) || !bytes.Equal(data, orig) {
		t.Fatal("Finish is not repeatable or the input changed")
	}
	// A signature that is not the token's over Digest is refused.
	if out, err := prep.Finish(context.Background(), bytes.Repeat([]byte{1}, 64)); err == nil || out != nil {
		t.Fatal("a bad signature gave a PDF")
	}
}

func TestDefaultText(t *testing.T) {
	p := doctest.Get(t)
	s := p.DocSigner(p.Signer(t, doctest.P256))
	want := "Ký bởi: NGUYỄN VĂN AN\nCơ quan: UBND TỈNH BẮC NINH\nNgày ký: 09/03/2026 14:05:09 +07:00"
	if got := pdf.DefaultText(s); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	noOrg := *s.Cert
	noOrg.Subject.Organization = nil
	s.Cert = &noOrg
	s.Time = time.Date(2026, 12, 31, 23, 59, 59, 0, time.FixedZone("", -(3*3600+30*60)))
	if got := pdf.DefaultText(s); got != "Ký bởi: NGUYỄN VĂN AN\nNgày ký: 31/12/2026 23:59:59 -03:30" {
		t.Errorf("got %q", got)
	}
}

// TestPageLookup: the fast page lookup (down the tree by /Count, from the
// nearer end) finds the same page as a walk of the whole tree, for every
// page of every corpus file (pdfTeX's balanced trees, qpdf's and
// ghostscript's flat ones).
func TestPageLookup(t *testing.T) {
	for name, path := range getCorpus(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		n, err := pdf.ComparePageLookup(data, -1)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, want := range append([]int{0}, seq(1, n)...) {
			if _, err := pdf.ComparePageLookup(data, want); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}

func seq(from, to int) []int {
	var s []int
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}
