package e2e_test

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"kyso.vn/kyso/demo/portal"
	"kyso.vn/kyso/internal/doctest"
	"kyso.vn/kyso/internal/testenv"
)

// signPDFPage signs a PDF on the demo's "Ký văn bản PDF" page: the file at
// path, uploaded through the file input, or the portal's sample when path
// is "". It checks the server's verdict, downloads the signed PDF as a
// person would (the page's link), and checks that file with poppler's
// pdfsig and qpdf, apart from the portal's Go verifier.
func (w *world) signPDFPage(path string) {
	t := w.t
	t.Helper()
	w.run(chromedp.Navigate(w.page("/ky-van-ban-pdf")), chromedp.WaitVisible(chromedp.ID("ky-pdf")))
	var want []byte
	if path == "" {
		w.eval(`document.getElementById('lay-mau').click(), ''`)
		waitFor(t, "the sample PDF", 10*time.Second, func() bool {
			return strings.HasPrefix(w.eval(`document.getElementById('tep-chon').textContent`), "Đã chọn: van-ban-mau.pdf")
		})
		want = portal.SamplePDF(0)
	} else {
		w.run(chromedp.SetUploadFiles(chromedp.CSS(`#tep-pdf`), []string{path}))
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want = b
	}
	w.eval(`document.getElementById('ly-do-ky').value = 'Phê duyệt văn bản', document.getElementById('noi-ky').value = 'Hà Nội', ''`)

	dl := filepath.Join(w.dir, "downloads")
	if err := os.MkdirAll(dl, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.CallBrowser(w.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dl}); err != nil {
		t.Fatalf("Browser.setDownloadBehavior: %v", err)
	}

	w.eval(`document.getElementById('ky-pdf').click(), ''`)
	got := w.awaitResult(true)
	if got.State != "valid" {
		t.Fatalf("the portal did not verify the signed PDF: state %q code %q\n%s", got.State, got.Code, got.Text)
	}
	for _, want := range []string{"Chữ ký hợp lệ", "NGUYỄN VĂN AN", "Kyso Test CA", "ETSI.CAdES.detached", "Phê duyệt văn bản", "Hà Nội"} {
		if !strings.Contains(got.Text, want) {
			t.Errorf("result lacks %q:\n%s", want, got.Text)
		}
	}
	for cls, want := range map[string]string{"toan-bo": "có", "giu-nguyen": "có", "so-chu-ky": "1"} {
		if v := w.eval(`document.querySelector('#ket-qua .` + cls + `').textContent`); v != want {
			t.Errorf("%s: %q, want %q", cls, v, want)
		}
	}

	if path == "" {
		w.pageShot("demo-pdf.png")
	}

	// Download the signed PDF through the page's link.
	name := w.eval(`window.kysoDemo.signedName`)
	w.eval(`document.getElementById('tai-ve').click(), ''`)
	file := filepath.Join(dl, name)
	serverSum := w.eval(`document.getElementById('ket-qua').dataset.sha256`)
	var signed []byte
	waitFor(t, "the download of "+name, 60*time.Second, func() bool {
		b, err := os.ReadFile(file)
		if err != nil {
			return false
		}
		sum := sha256.Sum256(b)
		signed = b
		return hex.EncodeToString(sum[:]) == serverSum
	})
	if len(signed) <= len(want) || string(signed[:len(want)]) != string(want) {
		t.Fatalf("the signed PDF (%d bytes) does not begin with the original (%d bytes)", len(signed), len(want))
	}
	checkSignedPDF(t, file, 1)
	orig := filepath.Join(w.dir, "original.pdf")
	os.WriteFile(orig, want, 0o600)
	stampShows(t, orig, file)
}

// stampShows renders the last page of the original and of the signed PDF
// with poppler's pdftoppm and checks that they differ, and only in the
// page's bottom-right quarter: the default visible stamp is drawn there.
func stampShows(t *testing.T, orig, signed string) {
	t.Helper()
	render := func(f string) image.Image {
		out := filepath.Join(t.TempDir(), "page")
		if b, err := exec.Command("pdftoppm", "-l", "1", "-r", "40", "-png", "-singlefile", f, out).CombinedOutput(); err != nil {
			t.Fatalf("pdftoppm %s: %v: %s", f, err, b)
		}
		r, err := os.Open(out + ".png")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		img, err := png.Decode(r)
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	a, b := render(orig), render(signed)
	bounds := a.Bounds()
	if b.Bounds() != bounds {
		t.Fatalf("page sizes differ: %v and %v", bounds, b.Bounds())
	}
	inside, outside := 0, 0
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			if a.At(x, y) == b.At(x, y) {
				continue
			}
			if x >= bounds.Dx()/2 && y >= bounds.Dy()*3/4 {
				inside++
			} else {
				outside++
			}
		}
	}
	if inside < 50 || outside > 0 {
		t.Fatalf("the stamp does not show where it should: %d pixels changed bottom right, %d elsewhere", inside, outside)
	}
}

// pageShot keeps a picture of the page's main part in
// $KYSO_DOCS_SCREENSHOTS when set (docs/img/demo-pdf.png comes from there).
func (w *world) pageShot(name string) {
	d := os.Getenv("KYSO_DOCS_SCREENSHOTS")
	if d == "" {
		return
	}
	ctx, cancel := context.WithTimeout(w.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("main")))
	if err != nil {
		w.t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(d, name), png, 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// badPDFPage uploads a truncated PDF: Kyso refuses it with BAD_DOCUMENT
// before asking for the PIN, and the page says so in Vietnamese.
func (w *world) badPDFPage() {
	t := w.t
	t.Helper()
	f := filepath.Join(w.dir, "hong.pdf")
	os.WriteFile(f, portal.SamplePDF(0)[:600], 0o600)
	w.run(chromedp.Navigate(w.page("/ky-van-ban-pdf")), chromedp.WaitVisible(chromedp.ID("ky-pdf")))
	w.run(chromedp.SetUploadFiles(chromedp.CSS(`#tep-pdf`), []string{f}))
	w.eval(`document.getElementById('ky-pdf').click(), ''`)
	got := w.awaitResult(false)
	if got.State != "error" || got.Code != "BAD_DOCUMENT" || !strings.Contains(got.Text, "Kyso không ký được văn bản này") {
		t.Fatalf("a truncated PDF: state %q code %q\n%s", got.State, got.Code, got.Text)
	}
}

// checkSignedPDF checks a signed PDF with the independent tools of
// internal/doctest.VerifyPDF — poppler's pdfsig (n valid signatures, the
// last over the whole document, PAdES), qpdf --check and openssl cms
// -verify over each ByteRange, trusting only the test CA — and that pdfsig
// names the demo token's holder as the signer.
func checkSignedPDF(t *testing.T, file string, n int) {
	t.Helper()
	signed, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, err := os.ReadFile(testenv.Shared(t).CACert)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		t.Fatalf("%s: no PEM", testenv.Shared(t).CACert)
	}
	root, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	v := doctest.VerifyPDF(t, signed, root, n, 0)
	if cn := v[n-1].Fields["Signer Certificate Common Name"]; cn != "NGUYỄN VĂN AN" {
		t.Errorf("pdfsig: signer %q, want NGUYỄN VĂN AN", cn)
	}
}

// signInvoicePage signs an invoice on the demo's "Ký hóa đơn điện tử" page
// and checks what the server verified; the signed XML is checked with
// xmlsec1 here too, apart from the portal.
func (w *world) signInvoicePage() {
	t := w.t
	t.Helper()
	w.run(chromedp.Navigate(w.page("/ky-hoa-don")), chromedp.WaitVisible(chromedp.ID("ky-hoa-don")))
	w.eval(`document.getElementById('ky-hoa-don').click(), ''`)
	got := w.awaitResult(true)
	if got.State != "valid" {
		t.Fatalf("the portal did not verify the invoice: state %q code %q\n%s", got.State, got.Code, got.Text)
	}
	number := w.eval(`window.kysoDemo.number`)
	for _, want := range []string{"Chữ ký hợp lệ", "Công ty Cổ phần Giải pháp Kyso", "C26TKY số " + number,
		"1.404.000 VND", "xmlsec1", "NGUYỄN VĂN AN", "#DLHDon-1C26TKY-"} {
		if !strings.Contains(got.Text, want) {
			t.Errorf("result lacks %q:\n%s", want, got.Text)
		}
	}
	// Outside the Signature the signed invoice is the one the page built.
	in, out := w.eval(`window.kysoDemo.invoiceXml`), w.eval(`window.kysoDemo.signedXml`)
	i := strings.Index(out, "<Signature ")
	j := strings.LastIndex(out, "</Signature>")
	// (the empty <NBan/> that receives it is written as a start and an end tag).
	in = strings.Replace(in, "<NBan/>\n    <NMua/>", "<NBan></NBan>\n    <NMua/>", 1)
	if i < 0 || j < i || out[:i]+out[j+len("</Signature>"):] != in {
		t.Fatalf("the signed invoice differs from the built one outside its Signature:\n%s", out)
	}
	dir := t.TempDir()
	f := filepath.Join(dir, "hoa-don.xml")
	os.WriteFile(f, []byte(out), 0o600)
	ca := testenv.Shared(t).CACert
	xo, err := exec.Command("xmlsec1", "--verify", "--trusted-pem", ca, "--id-attr:Id", "DLHDon", f).CombinedOutput()
	if err != nil || !strings.Contains(string(xo), "OK") {
		t.Fatalf("xmlsec1 --verify: %v\n%s", err, xo)
	}
	// A changed total fails.
	bad := strings.Replace(out, "<TgTTTBSo>1404000<", "<TgTTTBSo>1404001<", 1)
	os.WriteFile(f, []byte(bad), 0o600)
	if xo, err := exec.Command("xmlsec1", "--verify", "--trusted-pem", ca, "--id-attr:Id", "DLHDon", f).CombinedOutput(); err == nil {
		t.Fatalf("xmlsec1 verified a changed total:\n%s", xo)
	}
}

// largePDF writes a PDF of size bytes (the sample with an incompressible
// image) for the large-document tests.
func largePDF(t *testing.T, size int) string {
	p := filepath.Join(t.TempDir(), "van-ban-lon.pdf")
	if err := os.WriteFile(p, portal.SamplePDF(size), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The demo's document pages through the extension, the native host
// relaying to the agent.
func TestDocumentsExtension(t *testing.T) {
	w := newWorld(t, setup{extension: true, native: true, agent: true})
	w.signPDFPage("")
	w.signInvoicePage()
}

// The same pages through the agent's WebSocket (no extension).
func TestDocumentsWebSocket(t *testing.T) {
	w := newWorld(t, setup{agent: true})
	w.signPDFPage("")
	w.signInvoicePage()
	w.badPDFPage()
}

// A 20 MiB PDF (DESIGN: document requests up to 64 MiB) signs over the
// WebSocket.
func TestLargePDFWebSocket(t *testing.T) {
	w := newWorld(t, setup{agent: true})
	w.signPDFPage(largePDF(t, 20<<20))
}

// A 20 MiB PDF signs through the extension: the request goes to the host
// in one 20+ MiB native message (under the 64 MiB browser→host limit) and
// the signed PDF comes back in parts the background joins.
func TestLargePDFExtension(t *testing.T) {
	w := newWorld(t, setup{extension: true, native: true, agent: true})
	w.signPDFPage(largePDF(t, 20<<20))
}
