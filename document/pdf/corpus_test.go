package pdf_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"kyso.vn/kyso/document"
	"kyso.vn/kyso/document/cms"
	"kyso.vn/kyso/internal/doctest"
	"kyso.vn/kyso/document/pdf"
)

// The corpus: PDFs nobody on the team wrote, shipped by Debian packages or
// made at test time by third-party tools (groff, ghostscript, LibreOffice,
// qpdf's rewrites). Made once per test binary.
var (
	corpusOnce sync.Once
	corpusDir  string
	corpus     map[string]string // name → path
	corpusErr  error
)

const (
	libtasn1     = "/usr/share/doc/libtasn1-doc/libtasn1.pdf"
	sharedMime   = "/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf"
	roffDocument = `.TL
Kyso test document
.AU
made by groff at test time
.PP
This document is produced by groff, so that the signing tests use a PDF
that nobody on the team wrote. It has three pages.
.bp
.PP
The second page.
.bp
.PP
The third page.
`
)

func TestMain(m *testing.M) {
	code := m.Run()
	if corpusDir != "" {
		os.RemoveAll(corpusDir)
	}
	os.Exit(code)
}

func run(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// qpdf runs qpdf; strict refuses its exit status 3 (warnings: qpdf
// recovered from a problem), which the corpus's rewrites may have.
func qpdfRun(strict bool, args ...string) error {
	out, err := exec.Command("qpdf", args...).CombinedOutput()
	var ee *exec.ExitError
	if !strict && errors.As(err, &ee) && ee.ExitCode() == 3 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("qpdf %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

func qpdf(args ...string) error { return qpdfRun(false, args...) }

func makeCorpus() error {
	dir, err := os.MkdirTemp("", "kyso-pdf-corpus-")
	if err != nil {
		return err
	}
	corpusDir = dir
	corpus = map[string]string{}
	add := func(name, path string) { corpus[name] = path }
	p := func(name string) string { return filepath.Join(dir, name+".pdf") }

	// Debian's PDFs (pdfTeX and DocBook: cross-reference streams, object
	// streams) and their classic and linearized rewrites. A machine whose
	// dpkg excludes /usr/share/doc (minimal containers) lacks them: the
	// tests that need them skip.
	if _, err := os.Stat(libtasn1); err == nil {
		add("libtasn1", libtasn1)
		if err := qpdf("--object-streams=disable", libtasn1, p("libtasn1-classic")); err != nil {
			return err
		}
		add("libtasn1-classic", p("libtasn1-classic"))
	}
	if _, err := os.Stat(sharedMime); err == nil {
		add("shared-mime-info", sharedMime)
		if err := qpdf("--object-streams=disable", sharedMime, p("shared-mime-info-classic")); err != nil {
			return err
		}
		add("shared-mime-info-classic", p("shared-mime-info-classic"))
		if err := qpdf("--linearize", sharedMime, p("shared-mime-info-linearized")); err != nil {
			return err
		}
		add("shared-mime-info-linearized", p("shared-mime-info-linearized"))
	}

	// groff's own PDF output, and ghostscript's from groff's PostScript.
	roff := filepath.Join(dir, "doc.ms")
	if err := os.WriteFile(roff, []byte(roffDocument), 0o600); err != nil {
		return err
	}
	out, err := run("groff", "-ms", "-Tpdf", roff)
	if err != nil {
		return err
	}
	if err := os.WriteFile(p("groff"), out, 0o600); err != nil {
		return err
	}
	add("groff", p("groff"))
	ps, err := run("groff", "-ms", "-Tps", roff)
	if err != nil {
		return err
	}
	psFile := filepath.Join(dir, "doc.ps")
	if err := os.WriteFile(psFile, ps, 0o600); err != nil {
		return err
	}
	if _, err := run("ps2pdf", psFile, p("ghostscript")); err != nil {
		return err
	}
	add("ghostscript", p("ghostscript"))

	// PDF 1.4 to 2.0 (1.4 cannot have object streams).
	for _, v := range []string{"1.4", "1.5", "1.6", "1.7", "2.0"} {
		args := []string{"--force-version=" + v}
		if v != "1.4" {
			args = append(args, "--object-streams=generate")
		}
		name := "ghostscript-" + v
		if err := qpdf(append(args, p("ghostscript"), p(name))...); err != nil {
			return err
		}
		add(name, p(name))
	}
	// Rotated pages, for the stamp.
	for _, r := range []string{"90", "180", "270"} {
		name := "groff-rotate" + r
		if err := qpdf(p("groff"), "--rotate=+"+r, "--", p(name)); err != nil {
			return err
		}
		add(name, p(name))
	}
	// LibreOffice, when installed (scripts/deps.sh installs it).
	if _, err := exec.LookPath("soffice"); err == nil {
		txt := filepath.Join(dir, "vanban.txt")
		os.WriteFile(txt, []byte("Ủy ban nhân dân tỉnh Bắc Ninh\nQuyết định về việc phê duyệt kế hoạch năm 2026\n"), 0o600)
		if _, err := run("soffice", "--headless", "-env:UserInstallation=file://"+dir+"/lo-profile",
			"--convert-to", "pdf", "--outdir", dir, txt); err == nil {
			add("libreoffice", filepath.Join(dir, "vanban.pdf"))
		}
	}
	// A hybrid file: a classic table plus an /XRefStm (made here, see
	// hybridPDF).
	if err := os.WriteFile(p("hybrid"), hybridPDF(), 0o600); err != nil {
		return err
	}
	add("hybrid", p("hybrid"))
	return nil
}

// getCorpus returns the corpus, made on first use.
func getCorpus(t testing.TB) map[string]string {
	t.Helper()
	corpusOnce.Do(func() { corpusErr = makeCorpus() })
	if corpusErr != nil {
		t.Fatal(corpusErr)
	}
	return corpus
}

func readCorpus(t testing.TB, name string) []byte {
	t.Helper()
	path, ok := getCorpus(t)[name]
	if !ok {
		t.Skipf("%s not in the corpus on this machine", name)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hybridPDF is a minimal hybrid-reference file (ISO 32000-1 §7.5.8.4): a
// classic table for objects 1–3 and 5 and a trailer whose /XRefStm
// points to a cross-reference stream holding object 4 (the Info
// dictionary, compressed in object stream 5). Readers that know streams
// see the title; a signature must keep both working.
func hybridPDF() []byte {
	var b bytes.Buffer
	off := map[int]int{}
	b.WriteString("%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
	obj := func(n int, body string) {
		off[n] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", n, body)
	}
	obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> >>")
	objstm := "4 0 << /Title (Hybrid test) /Producer (kyso test) >>"
	header := "4 0 "
	obj(5, fmt.Sprintf("<< /Type /ObjStm /N 1 /First %d /Length %d >>\nstream\n%s\nendstream", len(header), len(objstm), objstm))
	// The xref stream: rows for 4 (type 2, in 5 at 0), W [1 2 1].
	rows := []byte{2, 0, 5, 0}
	off[6] = b.Len()
	fmt.Fprintf(&b, "6 0 obj\n<< /Type /XRef /Size 7 /W [1 2 1] /Index [4 1] /Length %d >>\nstream\n", len(rows))
	b.Write(rows)
	b.WriteString("\nendstream\nendobj\n")
	xref := b.Len()
	// Object 4 is in the XRefStm only: the table leaves it out.
	b.WriteString("xref\n0 4\n0000000000 65535 f\r\n")
	for n := 1; n <= 3; n++ {
		fmt.Fprintf(&b, "%010d 00000 n\r\n", off[n])
	}
	b.WriteString("5 2\n")
	for n := 5; n <= 6; n++ {
		fmt.Fprintf(&b, "%010d 00000 n\r\n", off[n])
	}
	fmt.Fprintf(&b, "trailer\n<< /Size 7 /Root 1 0 R /Info 4 0 R /XRefStm %d >>\nstartxref\n%d\n%%%%EOF\n", off[6], xref)
	return b.Bytes()
}

// ---- Verification by independent tools -------------------------------

var rangeRE = regexp.MustCompile(`Signed Ranges: \[(\d+) - (\d+)\], \[(\d+) - (\d+)\]`)

// verified is what verifyPDF found of one signature.
type verified struct {
	fields map[string]string // pdfsig's "- Key: value" lines
	signed *cms.Signed
}

// verifyPDF checks a signed PDF with independent tools and returns, per
// signature, what they saw:
//   - pdfsig (poppler): every signature valid, the last covering the whole
//     file, all of type ETSI.CAdES.detached unless other is set;
//   - qpdf --check: no error;
//   - openssl cms -verify of each CMS (dumped by pdfsig) over the bytes of
//     its ByteRange (as pdfsig reports it), with the chain from the CMS and
//     only the test root trusted;
//   - Go: cms.Verify of the same, and that PAdES's rules hold (no
//     signing-time attribute, signing-certificate-v2 present).
//
// others is how many of the signatures were not made by Kyso.
func verifyPDF(t *testing.T, signed []byte, want, others int) []verified {
	t.Helper()
	p := doctest.Get(t)
	dir := t.TempDir()
	f := filepath.Join(dir, "signed.pdf")
	if err := os.WriteFile(f, signed, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := qpdfRun(true, "--check", f); err != nil {
		t.Fatalf("qpdf --check: %v", err)
	}
	out, err := exec.Command("pdfsig", "-nocert", f).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfsig: %v\n%s", err, out)
	}
	dump := exec.Command("pdfsig", "-nocert", "-dump", f)
	dump.Dir = dir
	if o, err := dump.CombinedOutput(); err != nil {
		t.Fatalf("pdfsig -dump: %v\n%s", err, o)
	}
	blocks := strings.Split(string(out), "Signature #")[1:]
	if len(blocks) != want {
		t.Fatalf("pdfsig sees %d signatures, want %d:\n%s", len(blocks), want, out)
	}
	root := doctest.WritePEM(t, dir, "root.pem", p.Root.Cert)
	var res []verified
	for i, blk := range blocks {
		v := verified{fields: map[string]string{}}
		for _, l := range strings.Split(blk, "\n") {
			if k, val, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(l), "- "), ": "); ok {
				v.fields[k] = val
			}
		}
		if v.fields["Signature Validation"] != "Signature is Valid." {
			t.Errorf("signature %d: pdfsig: %q\n%s", i+1, v.fields["Signature Validation"], out)
		}
		last := i == len(blocks)-1
		if last != strings.Contains(blk, "Total document signed") {
			t.Errorf("signature %d: whole document signed %v, want %v", i+1, !last, last)
		}
		m := rangeRE.FindStringSubmatch(blk)
		if m == nil {
			t.Fatalf("signature %d: no ranges in pdfsig's output", i+1)
		}
		var r [4]int
		for j := range r {
			r[j], _ = strconv.Atoi(m[j+1])
		}
		if r[0] != 0 || r[3] > len(signed) || r[2] < r[1] {
			t.Fatalf("signature %d: ranges %v", i+1, r)
		}
		content := append(append([]byte{}, signed[r[0]:r[1]]...), signed[r[2]:r[3]]...)
		sigFile := filepath.Join(dir, fmt.Sprintf("signed.pdf.sig%d", i))
		der, err := os.ReadFile(sigFile)
		if err != nil {
			t.Fatalf("signature %d: pdfsig -dump: %v", i+1, err)
		}
		if i >= others {
			if v.fields["Signature Type"] != "ETSI.CAdES.detached" {
				t.Errorf("signature %d: type %q", i+1, v.fields["Signature Type"])
			}
			cf := filepath.Join(dir, fmt.Sprintf("content%d.bin", i))
			os.WriteFile(cf, content, 0o600)
			o, err := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", sigFile,
				"-content", cf, "-CAfile", root, "-purpose", "any", "-out", os.DevNull).CombinedOutput()
			if err != nil || !strings.Contains(string(o), "Verification successful") {
				t.Errorf("signature %d: openssl cms -verify: %v\n%s", i+1, err, o)
			}
			// pdfsig dumps the whole /Contents (padded with zeros): the DER
			// is its first element.
			der = trimDER(der)
			sum := sha256.Sum256(content)
			v.signed, err = cms.Verify(der, sum[:])
			if err != nil {
				t.Errorf("signature %d: cms.Verify: %v", i+1, err)
			} else if !v.signed.SigningTime.IsZero() || !v.signed.SigningCertificateV2 {
				t.Errorf("signature %d: signing-time %v, signing-certificate-v2 %v: not PAdES", i+1, v.signed.SigningTime, v.signed.SigningCertificateV2)
			}
		}
		res = append(res, v)
	}
	return res
}

// trimDER cuts b to its first DER element.
func trimDER(b []byte) []byte {
	if len(b) < 2 {
		return b
	}
	n, l := int(b[1]), 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k > 4 || len(b) < 2+k {
			return b
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		l += k
	}
	if l+n > len(b) {
		return b
	}
	return b[:l+n]
}

// signWith signs data with the test signer of kind and returns the PDF.
func signWith(t *testing.T, data []byte, kind string, opts pdf.Options) []byte {
	t.Helper()
	p := doctest.Get(t)
	id := p.Signer(t, kind)
	prep, err := pdf.Prepare(data, p.DocSigner(id), opts)
	if err != nil {
		t.Fatal(err)
	}
	out, err := prep.Finish(context.Background(), doctest.SignPrepared(t, prep, id.Key))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out[:len(data)], data) {
		t.Fatal("the original bytes changed")
	}
	return out
}

// isBad reports whether err is BAD_DOCUMENT, logging its reason.
func isBad(t *testing.T, err error) bool {
	t.Helper()
	if err != nil {
		t.Log(err)
	}
	return document.IsCode(err, document.CodeBadDocument)
}
