package pdf_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"kyso.vn/kyso/document/pdf"
	"kyso.vn/kyso/internal/doctest"
)

// Run with KYSO_UPDATE_STAMP=1 to rewrite testdata/stamp-ref.png and
// docs/img/stamp.png after a deliberate change of the stamp's look.
var updateStamp = os.Getenv("KYSO_UPDATE_STAMP") == "1"

const dpi = 100

// render draws page of pdfBytes (its crop box, as viewers show it) with
// pdftoppm at res dpi and returns it.
func render(t *testing.T, pdfBytes []byte, page, res int) image.Image {
	t.Helper()
	dir := t.TempDir()
	f := filepath.Join(dir, "in.pdf")
	os.WriteFile(f, pdfBytes, 0o600)
	if _, err := run("pdftoppm", "-cropbox", "-r", fmt.Sprint(res), "-png", "-singlefile", "-f", fmt.Sprint(page), "-l", fmt.Sprint(page), f, filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	return readPNG(t, filepath.Join(dir, "out.png"))
}

// crop cuts the rect [x y w h] (points from the bottom-left of the
// displayed page) out of a page rendered at res dpi.
func crop(img image.Image, r [4]float64, res int) *image.NRGBA {
	s := float64(res) / 72
	b := img.Bounds()
	x0 := int(math.Round(r[0] * s))
	y0 := b.Dy() - int(math.Round((r[1]+r[3])*s))
	w, h := int(math.Round(r[2]*s)), int(math.Round(r[3]*s))
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			out.Set(x, y, img.At(b.Min.X+x0+x, b.Min.Y+y0+y))
		}
	}
	return out
}

// ink is how dark a pixel is, 0 (white) to 1 (black).
func ink(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	return 1 - (0.299*float64(r)+0.587*float64(g)+0.114*float64(b))/65535
}

// compareInk compares two renderings by their ink in cells of cell×cell
// pixels: font hinting and anti-aliasing move edges by a pixel, which
// averaging over a cell absorbs, while a missing line, a wrong letter
// shape at this scale, a moved image or a turned stamp does not. It
// returns the mean and the largest cell difference.
func compareInk(a, b image.Image, cell int) (mean, worst float64) {
	return compareBy(a, b, cell, ink)
}

func compareBy(a, b image.Image, cell int, ink func(color.Color) float64) (mean, worst float64) {
	ab, bb := a.Bounds(), b.Bounds()
	w, h := min(ab.Dx(), bb.Dx()), min(ab.Dy(), bb.Dy())
	var sum float64
	n := 0
	for cy := 0; cy+cell <= h; cy += cell {
		for cx := 0; cx+cell <= w; cx += cell {
			var ia, ib float64
			for y := cy; y < cy+cell; y++ {
				for x := cx; x < cx+cell; x++ {
					ia += ink(a.At(ab.Min.X+x, ab.Min.Y+y))
					ib += ink(b.At(bb.Min.X+x, bb.Min.Y+y))
				}
			}
			d := math.Abs(ia-ib) / float64(cell*cell)
			sum += d
			worst = max(worst, d)
			n++
		}
	}
	if n == 0 {
		return 1, 1
	}
	return sum / float64(n), worst
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// pdftotext extracts the text of page within rect (points, displayed page
// from the bottom-left; pageH its height) through the ToUnicode CMap.
func pdftotext(t *testing.T, pdfBytes []byte, page int, r [4]float64, pageH float64) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "in.pdf")
	os.WriteFile(f, pdfBytes, 0o600)
	out, err := run("pdftotext", "-f", fmt.Sprint(page), "-l", fmt.Sprint(page), "-r", "72",
		"-x", fmt.Sprint(int(r[0])), "-y", fmt.Sprint(int(pageH-r[1]-r[3])), "-W", fmt.Sprint(int(r[2])+1), "-H", fmt.Sprint(int(r[3])+1),
		"-enc", "UTF-8", f, "-")
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// pageSize is the size of page 1 of the corpus file name as pdfinfo
// reads it (groff and ghostscript take the machine's paper size).
func pageSize(t *testing.T, name string) (w, h float64) {
	t.Helper()
	s := pdfinfo(t, getCorpus(t)[name], "Page size")
	if _, err := fmt.Sscanf(s, "%g x %g", &w, &h); err != nil {
		t.Fatalf("page size %q: %v", s, err)
	}
	return w, h
}

// defaultRect is the default stamp on a w-point-wide page: 220×70 points,
// 36 from the right and bottom edges.
func defaultRect(w float64) [4]float64 { return [4]float64{w - 36 - 220, 36, 220, 70} }

// chroma is how coloured a pixel is (0 for white, grey and black): the
// stamp is blue and red, the corpus's pages are black on white.
func chroma(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	return (float64(max(r, g, b)) - float64(min(r, g, b))) / 65535
}

// TestStampLooksRight renders the default stamp (with a seal) and compares
// it with the committed reference picture; the text is in the page's text
// layer, the seal's transparent corners show the page.
func TestStampLooksRight(t *testing.T) {
	data := readCorpus(t, "groff")
	pw, ph := pageSize(t, "groff")
	rect := defaultRect(pw)
	out := signWith(t, data, doctest.RSA2048, pdf.Options{Stamp: &pdf.Stamp{Page: 1, Image: sealPNG(t)}})
	verifyPDF(t, out, 1, 0)
	page := render(t, out, 1, dpi)
	got := crop(page, rect, dpi)
	if updateStamp {
		writePNG(t, "testdata/stamp-ref.png", got)
		big := render(t, out, 1, 200)
		writePNG(t, "../../docs/img/stamp.png", crop(big, [4]float64{rect[0] - 12, rect[1] - 12, rect[2] + 24, rect[3] + 24}, 200))
	}
	want := readPNG(t, "testdata/stamp-ref.png")
	if got.Bounds().Size() != want.Bounds().Size() {
		t.Fatalf("stamp rendered %v, reference %v", got.Bounds().Size(), want.Bounds().Size())
	}
	mean, worst := compareInk(got, want, 4)
	t.Logf("ink difference from the reference: mean %.4f, worst cell %.3f", mean, worst)
	if mean > 0.02 || worst > 0.3 {
		writePNG(t, filepath.Join(os.TempDir(), "kyso-stamp-got.png"), got)
		t.Errorf("the stamp does not look like testdata/stamp-ref.png (mean %.4f, worst %.3f); rendering kept in %s",
			mean, worst, filepath.Join(os.TempDir(), "kyso-stamp-got.png"))
	}
	// Ink where the text is (right of the seal) and where the seal is;
	// none just outside the stamp.
	w, h := got.Bounds().Dx(), got.Bounds().Dy()
	if textInk := meanInk(got, image.Rect(w/2, h/4, w-8, 3*h/4)); textInk < 0.02 {
		t.Errorf("no text ink in the stamp (%.3f)", textInk)
	}
	if sealInk := meanInk(got, image.Rect(8, 8, h-8, h-8)); sealInk < 0.05 {
		t.Errorf("no seal ink (%.3f)", sealInk)
	}
	around := crop(page, [4]float64{rect[0] - 20, rect[1] - 20, rect[2] + 40, 15}, dpi)
	if a := meanInk(around, around.Bounds()); a > 0.001 {
		t.Errorf("ink below the stamp (%.4f): the stamp spills out of its box", a)
	}
	// The seal's corner is transparent: the page's white shows.
	if c := meanInk(got, image.Rect(3, 3, 6, 6)); c > 0.05 {
		t.Errorf("the seal's transparent corner is not transparent (%.3f)", c)
	}
	text := pdftotext(t, out, 1, rect, ph)
	for _, want := range []string{"Ký bởi: NGUYỄN VĂN AN", "Cơ quan: UBND TỈNH BẮC NINH", "Ngày ký: 09/03/2026 14:05:09 +07:00"} {
		if !strings.Contains(text, want) {
			t.Errorf("text layer lacks %q: %q", want, text)
		}
	}
	if !bytes.Contains(out[len(data):], []byte("/SMask")) {
		t.Error("no soft mask for the PNG's transparency")
	}
}

func meanInk(img image.Image, r image.Rectangle) float64 {
	var s float64
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			s += ink(img.At(x, y))
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return s / float64(n)
}

// TestStampRotatedPages: on a page turned by /Rotate the stamp is at the
// bottom right of the page as displayed and reads upright: it renders like
// the stamp on the unturned page.
func TestStampRotatedPages(t *testing.T) {
	pw, ph := pageSize(t, "groff")
	st := pdf.Stamp{Page: 3, Image: sealPNG(t)}
	ref := crop(render(t, signWith(t, readCorpus(t, "groff"), doctest.P256, pdf.Options{Stamp: &st}), 3, dpi), defaultRect(pw), dpi)
	for _, r := range []string{"90", "180", "270"} {
		t.Run(r, func(t *testing.T) {
			out := signWith(t, readCorpus(t, "groff-rotate"+r), doctest.P256, pdf.Options{Stamp: &st})
			verifyPDF(t, out, 1, 0)
			page := render(t, out, 3, dpi)
			rect := defaultRect(pw)
			if r != "180" { // the displayed page is landscape
				rect = defaultRect(ph)
			}
			// Compared by colour: the page's own black text may fall under
			// the stamp once turned.
			got := crop(page, rect, dpi)
			mean, worst := compareBy(got, ref, 4, chroma)
			t.Logf("rotate %s: mean %.4f, worst %.3f", r, mean, worst)
			if mean > 0.02 || worst > 0.3 {
				writePNG(t, filepath.Join(os.TempDir(), "kyso-stamp-rot"+r+".png"), got)
				t.Errorf("the stamp on a page turned %s° does not read like the upright one", r)
			}
		})
	}
}

// vietnameseLetters are the 134 letters of Vietnamese that carry a
// diacritic (67 lower case, 67 upper case).
func vietnameseLetters() []string {
	lower := []string{"ă", "â", "đ", "ê", "ô", "ơ", "ư"}
	for _, v := range []string{"a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y"} {
		for _, tone := range []string{"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"} {
			lower = append(lower, norm.NFC.String(v+tone))
		}
	}
	var all []string
	for _, l := range lower {
		all = append(all, l, strings.ToUpper(l))
	}
	return all
}

// TestVietnameseLetters: a stamp with all 134 letters renders each with a
// real glyph and keeps them in the text layer, also from NFD input (what
// macOS and "Unicode tổ hợp" keyboards produce).
func TestVietnameseLetters(t *testing.T) {
	letters := vietnameseLetters()
	if len(letters) != 134 {
		t.Fatalf("%d letters", len(letters))
	}
	var lines []string
	for i := 0; i < len(letters); i += 27 {
		lines = append(lines, strings.Join(letters[i:min(i+27, len(letters))], " "))
	}
	text := strings.Join(lines, "\n")
	_, ph := pageSize(t, "groff")
	rect := [4]float64{40, 300, 515, 120}
	for _, form := range []struct {
		name string
		f    norm.Form
	}{{"NFC", norm.NFC}, {"NFD", norm.NFD}} {
		t.Run(form.name, func(t *testing.T) {
			out := signWith(t, readCorpus(t, "groff"), doctest.RSA2048, pdf.Options{Stamp: &pdf.Stamp{Page: 1, Rect: rect, Text: form.f.String(text)}})
			verifyPDF(t, out, 1, 0)
			got := norm.NFC.String(pdftotext(t, out, 1, rect, ph))
			for _, l := range letters {
				if !strings.Contains(got, l) {
					t.Errorf("%q missing from the text layer", l)
				}
			}
			if strings.ContainsRune(got, '\uFFFD') {
				t.Errorf("replacement characters in %q", got)
			}
			img := crop(render(t, out, 1, 200), rect, 200)
			if meanInk(img, img.Bounds()) < 0.02 {
				t.Error("the letters left no ink")
			}
		})
	}
}

// TestStampLongText: text far too long shrinks, wraps and ends with an
// ellipsis, all inside the box.
func TestStampLongText(t *testing.T) {
	long := strings.Repeat("Văn bản này được ký số bởi Ủy ban nhân dân tỉnh theo quy định. ", 20)
	rect := [4]float64{100, 100, 200, 60}
	out := signWith(t, readCorpus(t, "groff"), doctest.P256, pdf.Options{Stamp: &pdf.Stamp{Page: 1, Rect: rect, Text: long}})
	verifyPDF(t, out, 1, 0)
	page := render(t, out, 1, dpi)
	around := crop(page, [4]float64{80, 80, 240, 19}, dpi) // the band below the box
	if a := meanInk(around, around.Bounds()); a > 0.001 {
		t.Errorf("ink below the box (%.4f)", a)
	}
	_, ph := pageSize(t, "groff")
	txt := pdftotext(t, out, 1, rect, ph)
	if !strings.Contains(txt, "Văn bản này được ký số") || !strings.Contains(txt, "…") {
		t.Errorf("text layer %q", txt)
	}
}

// TestStampImages: JPEG is embedded as it is (DCTDecode); a large image
// is scaled down; a gray PNG stays gray.
func TestStampImages(t *testing.T) {
	mk := func(w, h int, gray bool) image.Image {
		if gray {
			g := image.NewGray(image.Rect(0, 0, w, h))
			for i := range g.Pix {
				g.Pix[i] = byte(i * 7)
			}
			return g
		}
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		for i := range m.Pix {
			m.Pix[i] = byte(i*13) | 0x80
		}
		for i := 3; i < len(m.Pix); i += 4 {
			m.Pix[i] = 255
		}
		return m
	}
	var jb, pbig, pgray bytes.Buffer
	jpeg.Encode(&jb, mk(200, 100, false), nil)
	png.Encode(&pbig, mk(3000, 1500, false))
	png.Encode(&pgray, mk(100, 100, true))
	for name, c := range map[string]struct {
		img  []byte
		want []string
	}{
		"jpeg":      {jb.Bytes(), []string{"/DCTDecode", "/Width 200"}},
		"large png": {pbig.Bytes(), []string{"/Width 1200", "/Height 600"}},
		"gray png":  {pgray.Bytes(), []string{"/DeviceGray", "/Width 100"}},
	} {
		t.Run(name, func(t *testing.T) {
			data := readCorpus(t, "groff")
			out := signWith(t, data, doctest.P256, pdf.Options{Stamp: &pdf.Stamp{Page: 1, Image: c.img}})
			verifyPDF(t, out, 1, 0)
			for _, w := range c.want {
				if !bytes.Contains(out[len(data):], []byte(w)) {
					t.Errorf("no %s in the update", w)
				}
			}
			pw, _ := pageSize(t, "groff")
			img := crop(render(t, out, 1, dpi), defaultRect(pw), dpi)
			h := img.Bounds().Dy()
			if meanInk(img, image.Rect(10, h/3, 40, 2*h/3)) < 0.05 {
				t.Error("the image left no ink")
			}
		})
	}
}

// onePagePDF is a blank one-page PDF whose page dictionary has attrs.
func onePagePDF(attrs string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	var off [4]int
	for i, body := range []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /Resources << >> " + attrs + " >>",
	} {
		off[i+1] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, body)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 4\n0000000000 65535 f\r\n%010d 00000 n\r\n%010d 00000 n\r\n%010d 00000 n\r\n", off[1], off[2], off[3])
	fmt.Fprintf(&b, "trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", xref)
	return b.Bytes()
}

// TestStampOddBoxes: boxes that do not start at 0, a crop box inside the
// media box, a turned page: the default stamp is still at the bottom right
// of what is displayed (pdftoppm shows the crop box), upright, inside.
func TestStampOddBoxes(t *testing.T) {
	st := pdf.Stamp{Page: 1, Image: sealPNG(t)}
	pw, _ := pageSize(t, "groff")
	ref := crop(render(t, signWith(t, readCorpus(t, "groff"), doctest.P256, pdf.Options{Stamp: &st}), 1, dpi), defaultRect(pw), dpi)
	for name, c := range map[string]struct {
		attrs string
		w     float64 // the displayed width
	}{
		"offset crop box":         {"/MediaBox [100 50 800 1000] /CropBox [150 100 750 950]", 600},
		"offset crop box, turned": {"/MediaBox [100 50 800 1000] /CropBox [150 100 750 950] /Rotate 90", 850},
		"negative origin, turned": {"/MediaBox [-300 -400 300 400] /Rotate 270", 800},
	} {
		t.Run(name, func(t *testing.T) {
			out := signWith(t, onePagePDF(c.attrs), doctest.P256, pdf.Options{Stamp: &st})
			verifyPDF(t, out, 1, 0)
			got := crop(render(t, out, 1, dpi), defaultRect(c.w), dpi)
			mean, worst := compareBy(got, ref, 4, chroma)
			t.Logf("mean %.4f, worst %.3f", mean, worst)
			if mean > 0.02 || worst > 0.3 {
				writePNG(t, filepath.Join(os.TempDir(), "kyso-stamp-odd.png"), got)
				t.Errorf("the stamp is not where it should be, or not upright")
			}
		})
	}
}
