package limits

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// The record forgets what is older than the window, stays bounded under
// endless origins, and a corrupt file counts as empty.
func TestFileDeclines(t *testing.T) {
	dir := t.TempDir()
	lim, err := SharedAt(dir, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	d := lim.Declines
	t0 := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 10; i++ {
		if err := d.Add(testOrigin, t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := d.Count(testOrigin, t0.Add(-time.Minute)); err != nil || n != maxPerOrigin {
		t.Fatalf("count %d, %v; want the last %d kept", n, err, maxPerOrigin)
	}
	if n, _ := d.Count(testOrigin, t0.Add(8*time.Second)); n != 1 {
		t.Fatalf("count since 8 s: %d, want 1", n)
	}
	for i := 0; i < maxDeclineOrigins+50; i++ {
		if err := d.Add(fmt.Sprintf("https://x%d.evil.example", i), t0.Add(20*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if len(d.read()) > maxDeclineOrigins {
		t.Fatalf("%d origins in the record", len(d.read()))
	}
	d.Add("https://late.example", t0.Add(2*time.Minute))
	if m := d.read(); len(m) != 1 {
		t.Fatalf("%d origins after the window passed, want 1", len(m))
	}

	if err := os.WriteFile(filepath.Join(dir, declinesFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if n, err := d.Count("https://late.example", t0); err != nil || n != 0 {
		t.Fatalf("corrupt record: %d, %v; want 0 (empty)", n, err)
	}
	if err := d.Add(testOrigin, t0.Add(3*time.Minute)); err != nil {
		t.Fatalf("writing over a corrupt record: %v", err)
	}
	if n, _ := d.Count(testOrigin, t0.Add(2*time.Minute)); n != 1 {
		t.Fatalf("after rewrite: %d, want 1", n)
	}
}

// Count sees what another process (here another FileDeclines on the same
// directory) wrote; a removed record counts nothing.
func TestFileDeclinesSeesOtherWriters(t *testing.T) {
	dir := t.TempDir()
	mine, err := SharedAt(dir, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	other, err := SharedAt(dir, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	for i := 1; i <= maxPerOrigin; i++ {
		if err := other.Declines.Add(testOrigin, t0); err != nil {
			t.Fatal(err)
		}
		if n, err := mine.Declines.Count(testOrigin, t0.Add(-time.Minute)); err != nil || n != i {
			t.Fatalf("after %d declines elsewhere: count %d, %v", i, n, err)
		}
	}
	os.Remove(filepath.Join(dir, declinesFile))
	if n, err := mine.Declines.Count(testOrigin, t0.Add(-time.Minute)); err != nil || n != 0 {
		t.Fatalf("record removed: count %d, %v; want 0", n, err)
	}
}

// A directory reached through a symlink is refused, as for the socket.
func TestSharedLimitsRefuseSymlinkDir(t *testing.T) {
	base := t.TempDir()
	target := filepath.Join(base, "elsewhere")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Skip("no symlinks here:", err) // Windows without the privilege
	}
	if _, err := SharedAt(link, zerolog.Nop()); err == nil {
		t.Fatal("shared limits in a directory reached through a symlink")
	}
}

const (
	holdEnv    = "KYSO_TEST_HOLD_GATE"
	testOrigin = "https://portal.example.gov.vn"
)

// TestHoldGateHelper is not a test: it is the second process of
// TestFileGateOtherProcess and TestSharedGateOtherProcess, holding the gate
// until it is killed.
func TestHoldGateHelper(t *testing.T) {
	dir := os.Getenv(holdEnv)
	if dir == "" {
		t.Skip("helper process only")
	}
	lim, err := SharedAt(dir, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := lim.Gate.TryAcquire(); !ok || err != nil {
		t.Fatalf("helper could not take the gate: %v", err)
	}
	fmt.Println("held")
	select {} // until killed: the kernel must then release the lock
}

// holdGate starts a helper process holding the gate in dir; kill kills it
// (no cleanup of its own) and waits for it to be gone.
func holdGate(t *testing.T, dir string) (kill func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHoldGateHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), holdEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := false
	kill = func() {
		if done {
			return
		}
		done = true
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		var ee *exec.ExitError
		if err := cmd.Wait(); err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
	}
	t.Cleanup(kill)
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "held" {
		t.Fatalf("helper: %q, %v", line, err)
	}
	return kill
}

// The gate is one holder across processes and within one; a holder that
// dies leaves no lock behind.
func TestFileGateOtherProcess(t *testing.T) {
	dir := t.TempDir()
	lim, err := SharedAt(dir, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	kill := holdGate(t, dir)
	if _, ok, err := lim.Gate.TryAcquire(); ok || err != nil {
		t.Fatalf("while another process holds the gate: ok=%v err=%v, want busy", ok, err)
	}
	kill()
	release, ok, err := lim.Gate.TryAcquire()
	if !ok || err != nil {
		t.Fatalf("after the holder died: ok=%v err=%v, want the gate", ok, err)
	}
	other, _ := SharedAt(dir, zerolog.Nop())
	if _, ok, _ := other.Gate.TryAcquire(); ok {
		t.Fatal("a second gate on the same directory got it too")
	}
	if _, ok, _ := lim.Gate.TryAcquire(); ok {
		t.Fatal("the same gate got it twice")
	}
	release()
	if r, ok, err := other.Gate.TryAcquire(); !ok || err != nil {
		t.Fatalf("after release: ok=%v err=%v", ok, err)
	} else {
		r()
	}
}
