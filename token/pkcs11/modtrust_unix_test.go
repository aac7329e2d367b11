//go:build linux || darwin

package pkcs11

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kyso.vn/kyso/internal/filetrust"
)

// The module rule of a user's own choice (filetrust.AdminsOrSelf); the
// policy's modules (filetrust.Admins) in security/policy_test.go and
// internal/filetrust's own tests.
func TestCheckModuleFile(t *testing.T) {
	dir := t.TempDir() // 0700, ours, under a sticky /tmp
	good := filepath.Join(dir, "good.so")
	os.WriteFile(good, []byte("x"), 0o755)
	if err := checkModuleFile(good, filetrust.AdminsOrSelf); err != nil {
		t.Fatalf("our own 0755 file in our 0700 dir: %v", err)
	}
	if err := checkModuleFile(filepath.Join(dir, "none.so"), filetrust.AdminsOrSelf); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}

	worldFile := filepath.Join(dir, "world.so")
	os.WriteFile(worldFile, []byte("x"), 0o644)
	os.Chmod(worldFile, 0o666)
	wantRefused(t, worldFile, "writable by other users")

	open := filepath.Join(dir, "open")
	os.Mkdir(open, 0o755)
	os.Chmod(open, 0o777) // no sticky bit: anyone may rename our file away
	inOpen := filepath.Join(open, "m.so")
	os.WriteFile(inOpen, []byte("x"), 0o755)
	wantRefused(t, inOpen, "writable by other users")

	sticky := filepath.Join(dir, "sticky")
	os.Mkdir(sticky, 0o755)
	os.Chmod(sticky, 0o777|os.ModeSticky)
	inSticky := filepath.Join(sticky, "m.so")
	os.WriteFile(inSticky, []byte("x"), 0o755)
	if err := checkModuleFile(inSticky, filetrust.AdminsOrSelf); err != nil {
		t.Fatalf("our file in a sticky dir: %v", err)
	}

	// A link in a trusted place to a module in an untrusted one.
	link := filepath.Join(dir, "link.so")
	os.Symlink(inOpen, link)
	wantRefused(t, link, "writable by other users")

	if os.Getuid() == 0 {
		os.Chown(good, 65534, 65534)
		wantRefused(t, good, "belongs to uid 65534")
	}

	// The Debian SoftHSM module passes, as root's files in /usr do.
	if _, err := os.Stat("/usr/lib/softhsm/libsofthsm2.so"); err == nil {
		if err := checkModuleFile("/usr/lib/softhsm/libsofthsm2.so", filetrust.Admins); err != nil {
			t.Fatal(err)
		}
	}
}

func wantRefused(t *testing.T, path, why string) {
	t.Helper()
	if err := checkModuleFile(path, filetrust.AdminsOrSelf); err == nil || !strings.Contains(err.Error(), why) {
		t.Fatalf("%s: %v, want refused (%s)", path, err, why)
	}
}
