package testenv

import (
	"bytes"
	"context"
	"image"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// NeedOCR skips the test when tesseract (and its English data) is not
// installed. On the Linux CI it is (scripts/deps.sh).
func NeedOCR(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("tesseract"); err != nil {
		t.Skipf("tesseract not installed: %v", err)
	}
}

// WindowText reads what the window titled titlePattern shows on screen:
// the window's part of the display, scaled up three times, read by
// tesseract OCR. It is for checking that a word is visible at all (not cut
// off, not pushed off the window), not for comparing text exactly: OCR
// may misread a letter of small print. The picture is kept in dir as
// name.png for a person to look at.
func WindowText(t testing.TB, display, titlePattern, dir, name string) string {
	t.Helper()
	NeedOCR(t)
	id := WaitWindow(t, display, titlePattern)
	geo := map[string]int{}
	for _, l := range strings.Split(Xdotool(t, display, "getwindowgeometry", "--shell", id), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			geo[k], _ = strconv.Atoi(v)
		}
	}
	screen := screen(t, display)
	r := image.Rect(geo["X"], geo["Y"], geo["X"]+geo["WIDTH"], geo["Y"]+geo["HEIGHT"]).Intersect(screen.Bounds())
	if r.Empty() {
		t.Fatalf("testenv: window %s is off the screen: %v", id, geo)
	}
	const k = 3
	big := image.NewRGBA(image.Rect(0, 0, r.Dx()*k, r.Dy()*k))
	for y := 0; y < big.Bounds().Dy(); y++ {
		for x := 0; x < big.Bounds().Dx(); x++ {
			big.Set(x, y, screen.At(r.Min.X+x/k, r.Min.Y+y/k))
		}
	}
	path := filepath.Join(dir, name+".png")
	writePNG(t, big, path)
	ctx, cancel := context.WithTimeout(context.Background(), stepLimit*4)
	defer cancel()
	cmd := exec.CommandContext(ctx, "tesseract", path, "stdout", "-l", "eng", "--psm", "6")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("testenv: tesseract: %v: %s", err, stderr.String())
	}
	return string(out)
}
