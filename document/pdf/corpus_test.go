package pdf_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"kyso.vn/kyso/document"
	"kyso.vn/kyso/document/pdf"
	"kyso.vn/kyso/internal/doctest"
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
func qpdfRun(strict bool, args ...string) error { return doctest.QPDF(strict, args...) }

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

// verified is what doctest.VerifyPDF found of one signature.
type verified = doctest.Verified

// verifyPDF checks a signed PDF with independent tools (doctest.VerifyPDF),
// trusting only the test root.
func verifyPDF(t *testing.T, signed []byte, want, others int) []verified {
	t.Helper()
	return doctest.VerifyPDF(t, signed, doctest.Get(t).Root.Cert, want, others)
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
