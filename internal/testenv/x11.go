// Package testenv starts the real desktop parts tests drive: an Xvfb display
// on which the real zenity dialogs open, and xdotool to answer them from the
// outside like a person would. Nothing here is linked into the shipped binary.
//
// Xvfb has no window manager: dialogs are found by title with
// `xdotool search --name`, focused with `windowfocus --sync` and answered with
// `type`/`key` (windowactivate needs a window manager and is never used).
package testenv

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Every xdotool step is bounded so that a dialog that never shows (or never
// closes) fails the test instead of hanging it.
const (
	waitWindow = 30 * time.Second
	stepLimit  = 15 * time.Second
)

// fbDirs records the frame buffer directory of each display we started, so
// Screenshot can read it.
var (
	fbMu   sync.Mutex
	fbDirs = map[string]string{}
)

// NeedX11 skips the test when the X11 tools are not installed (Windows,
// macOS, a bare CI image). On the Linux CI they are (scripts/deps.sh).
func NeedX11(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"Xvfb", "xdotool", "zenity"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
}

// Display starts an Xvfb server on a free display number (Xvfb picks it and
// reports it through -displayfd, so parallel test binaries never collide) and
// returns its name, e.g. ":7". The server is killed at cleanup. It does not
// change the environment, so it is safe in parallel tests; see UseDisplay.
func Display(t testing.TB) string {
	t.Helper()
	NeedX11(t)
	fbdir := t.TempDir()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatalf("testenv: pipe: %v", err)
	}
	defer r.Close()
	// -fbdir keeps the screen in an XWD file, which Screenshot reads: no
	// screenshot tool is needed.
	// -noreset: Xvfb resets itself whenever its last client leaves, and
	// refuses connections meanwhile; a desktop always has clients (its
	// window manager), a test's display does not — xdotool and the dialogs
	// come and go — so without it a step could find the display gone.
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1024x768x24",
		"-nolisten", "tcp", "-noreset", "-fbdir", fbdir)
	cmd.ExtraFiles = []*os.File{w}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		w.Close()
		t.Fatalf("testenv: start Xvfb: %v", err)
	}
	w.Close()
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})

	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	select {
	case n := <-got:
		if _, err := strconv.Atoi(n); err != nil {
			t.Fatalf("testenv: Xvfb gave no display number (%q): %s", n, stderr.String())
		}
		d := ":" + n
		fbMu.Lock()
		fbDirs[d] = fbdir
		fbMu.Unlock()
		return d
	case <-exited:
		t.Fatalf("testenv: Xvfb exited: %s", stderr.String())
	case <-time.After(waitWindow):
		t.Fatalf("testenv: Xvfb did not report a display: %s", stderr.String())
	}
	return ""
}

// UseDisplay starts a display and sets DISPLAY to it for the rest of the test
// (t.Setenv: the test must not be parallel). Code under test that opens
// dialogs reads DISPLAY like it would on a desktop.
func UseDisplay(t *testing.T) string {
	t.Helper()
	d := Display(t)
	t.Setenv("DISPLAY", d)
	// A desktop session bus or accessibility bridge is not needed and would
	// only slow GTK down or print warnings.
	t.Setenv("NO_AT_BRIDGE", "1")
	return d
}

// Xdotool runs xdotool on display with a time limit and returns its trimmed
// output. It fails the test on error.
func Xdotool(t testing.TB, display string, args ...string) string {
	t.Helper()
	out, err := xdotool(display, stepLimit, args...)
	if err != nil {
		t.Fatalf("testenv: xdotool %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// TryXdotool is Xdotool that returns the error instead of failing the test,
// for callers that retry (a window Wine maps late).
func TryXdotool(display string, args ...string) (string, error) {
	return xdotool(display, stepLimit, args...)
}

func xdotool(display string, limit time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, "xdotool", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return "", fmt.Errorf("timed out after %s", limit)
	}
	if err != nil {
		return string(out), fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// WaitWindow waits until a window whose title matches the regular expression
// titlePattern exists and returns its id (the first one if several).
func WaitWindow(t testing.TB, display, titlePattern string) string {
	t.Helper()
	out, err := xdotool(display, waitWindow, "search", "--sync", "--name", titlePattern)
	if err != nil {
		t.Fatalf("testenv: no window %q on %s: %v", titlePattern, display, err)
	}
	id, _, _ := strings.Cut(out, "\n")
	return id
}

// Focus waits for the window titled titlePattern and gives it the keyboard
// focus. It retries, because a GTK window may be mapped before it accepts the
// focus.
func Focus(t testing.TB, display, titlePattern string) string {
	t.Helper()
	id := WaitWindow(t, display, titlePattern)
	var err error
	for range 5 {
		if _, err = xdotool(display, 5*time.Second, "windowfocus", "--sync", id); err == nil {
			return id
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("testenv: cannot focus window %s (%q): %v", id, titlePattern, err)
	return ""
}

// Keys focuses the window titled titlePattern and sends it the key names
// (xdotool names: Tab, Return, Escape, Down, alt+a, …) one after another.
func Keys(t testing.TB, display, titlePattern string, keys ...string) {
	t.Helper()
	Focus(t, display, titlePattern)
	// No --window: that sends synthetic events with XSendEvent, and the key
	// release of a key that closed the dialog then fails with BadWindow.
	// Without it xdotool types (XTEST) into the focused window.
	for _, k := range keys {
		Xdotool(t, display, "key", "--delay", "50", k)
	}
}

// Type focuses the window and types text into its focused widget.
func Type(t testing.TB, display, titlePattern, text string) {
	t.Helper()
	Focus(t, display, titlePattern)
	Xdotool(t, display, "type", "--delay", "20", text)
}

// AnswerPIN types pin into the PIN dialog titled titlePattern and presses
// Return, as a person would.
func AnswerPIN(t testing.TB, display, titlePattern, pin string) {
	t.Helper()
	Type(t, display, titlePattern, pin)
	Keys(t, display, titlePattern, "Return")
}

// Cancel presses Escape in the dialog titled titlePattern.
func Cancel(t testing.TB, display, titlePattern string) {
	t.Helper()
	Keys(t, display, titlePattern, "Escape")
}

// PressButton moves the keyboard focus tabs times with Tab (shift+Tab when
// negative) from where the dialog put it, then presses space to press the
// focused button.
func PressButton(t testing.TB, display, titlePattern string, tabs int) {
	t.Helper()
	var keys []string
	for i := 0; i < tabs; i++ {
		keys = append(keys, "Tab")
	}
	for i := 0; i > tabs; i-- {
		keys = append(keys, "shift+Tab")
	}
	Keys(t, display, titlePattern, append(keys, "space")...)
}

// WaitNoWindow waits until no window title matches titlePattern, and fails
// the test if one is still there after a while.
func WaitNoWindow(t testing.TB, display, titlePattern string) {
	t.Helper()
	deadline := time.Now().Add(waitWindow)
	for {
		out, err := xdotool(display, stepLimit, "search", "--name", titlePattern)
		if err != nil && out == "" {
			return // xdotool search exits 1 when nothing matches
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: window %q still open on %s: %s", titlePattern, display, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WindowPID is the process that owns window id (GTK sets _NET_WM_PID).
func WindowPID(t testing.TB, display, id string) string {
	t.Helper()
	return Xdotool(t, display, "getwindowpid", id)
}

// WaitOtherWindow waits until a window matching titlePattern exists that
// belongs to another process than oldPID: a dialog opened again (window
// ids are no help: the X server reuses a departed client's ids).
func WaitOtherWindow(t testing.TB, display, titlePattern, oldPID string) {
	t.Helper()
	for deadline := time.Now().Add(waitWindow); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		out, _ := xdotool(display, stepLimit, "search", "--name", titlePattern)
		for _, id := range strings.Fields(out) {
			if pid, err := xdotool(display, stepLimit, "getwindowpid", id); err == nil && pid != oldPID {
				return
			}
		}
	}
	t.Fatalf("testenv: no window %q of another process than %s", titlePattern, oldPID)
}

// HasWindow reports whether a window title matches titlePattern now.
func HasWindow(t testing.TB, display, titlePattern string) bool {
	t.Helper()
	out, err := xdotool(display, stepLimit, "search", "--name", titlePattern)
	return err == nil && out != ""
}

// Screenshot writes the screen of a display started by Display to a PNG file
// (for people to look at; tests must not compare pixels).
func Screenshot(t testing.TB, display, path string) {
	t.Helper()
	writePNG(t, screen(t, display), path)
}

// screen is the current picture of a display started by Display.
func screen(t testing.TB, display string) image.Image {
	t.Helper()
	fbMu.Lock()
	dir, ok := fbDirs[display]
	fbMu.Unlock()
	if !ok {
		t.Fatalf("testenv: display %s was not started by testenv.Display", display)
	}
	img, err := readXWD(filepath.Join(dir, "Xvfb_screen0"))
	if err != nil {
		t.Fatalf("testenv: screenshot: %v", err)
	}
	return img
}

func writePNG(t testing.TB, img image.Image, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("testenv: screenshot: %v", err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatalf("testenv: screenshot: %v", err)
	}
}

// readXWD decodes the 24/32-bit ZPixmap XWD file Xvfb keeps with -fbdir.
func readXWD(path string) (image.Image, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 100 {
		return nil, errors.New("xwd: short file")
	}
	h := make([]uint32, 25)
	for i := range h {
		h[i] = binary.BigEndian.Uint32(b[i*4:])
	}
	headerSize, width, height := h[0], int(h[4]), int(h[5])
	byteOrder, bpp, bpl, ncolors := h[7], h[11], int(h[12]), h[19]
	if bpp != 32 {
		return nil, fmt.Errorf("xwd: %d bits per pixel not handled", bpp)
	}
	off := int(headerSize) + int(ncolors)*12
	if off+bpl*height > len(b) {
		return nil, errors.New("xwd: truncated pixels")
	}
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	for y := 0; y < height; y++ {
		row := b[off+y*bpl:]
		for x := 0; x < width; x++ {
			var p uint32
			if byteOrder == 0 { // LSBFirst
				p = binary.LittleEndian.Uint32(row[x*4:])
			} else {
				p = binary.BigEndian.Uint32(row[x*4:])
			}
			img.Set(x, y, color.RGBA{uint8(p >> 16), uint8(p >> 8), uint8(p), 255})
		}
	}
	return img, nil
}
