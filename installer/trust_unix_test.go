//go:build linux || darwin

package installer

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// A --system install refuses a program some non-root user could replace:
// its file or a folder above it writable by group/others or owned by
// another user (issue 16, finding 8). Install refuses before it writes.
func TestSystemBinaryTrust(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root: the trusted tree must be owned by root")
	}
	base, err := os.MkdirTemp("/var/tmp", "kyso-trust-") // not under a group-writable TMPDIR
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	mk := func(rel string, dirMode, fileMode os.FileMode) string {
		p := filepath.Join(base, rel, "kyso")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), fileMode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, fileMode); err != nil { // past the umask
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Dir(p), dirMode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := mk("good/bin", 0o755, 0o755)
	if err := CheckSystemBinary(good); err != nil {
		t.Fatalf("root-owned 0755 tree refused: %v", err)
	}
	sticky := mk("sticky", 0o777|os.ModeSticky, 0o755)
	if err := CheckSystemBinary(sticky); err != nil {
		t.Fatalf("root's file in a sticky folder refused: %v", err)
	}
	link := filepath.Join(base, "good", "link")
	if err := os.Symlink(mk("evil/bin", 0o777, 0o755), link); err != nil {
		t.Fatal(err)
	}
	other := mk("other/bin", 0o755, 0o755)
	if err := os.Chown(other, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	otherDir := mk("otherdir/bin", 0o755, 0o755)
	if err := os.Chown(filepath.Dir(otherDir), 65534, 65534); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]string{
		"world-writable folder":        filepath.Join(base, "evil/bin/kyso"),
		"group-writable file":          mk("gw/bin", 0o755, 0o775),
		"symlink into a writable tree": link,
		"file owned by another user":   other,
		"folder owned by another user": otherDir,
		"group-writable folder above":  mk("gwdir/sub", 0o775, 0o755),
		"missing":                      filepath.Join(base, "nope/kyso"),
	} {
		if err := CheckSystemBinary(p); !errors.Is(err, ErrUntrusted) {
			t.Errorf("%s (%s): %v, want ErrUntrusted", name, p, err)
		}
	}

	// Install refuses before writing anything. (Root is empty, as for a real
	// --system install: nothing may be written since the check comes first.)
	o := Options{System: true, Binary: filepath.Join(base, "evil/bin/kyso")}
	if _, _, err := Install(o); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("Install --system of a replaceable program: %v, want ErrUntrusted", err)
	}
}
