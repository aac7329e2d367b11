//go:build linux || darwin

package filetrust

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// trustedDir is a folder the tests' files may sit in: under /tmp (root's,
// sticky), ours, mode 0755. Run as root (as `make test` is), "ours" is
// root's, so the Admins rule applies to it as it does to /etc/kyso.
func trustedDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func write(t *testing.T, path string, mode os.FileMode) string {
	t.Helper()
	if err := os.WriteFile(path, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// folder makes the folder path with mode (past the umask).
func folder(t *testing.T, path string, mode os.FileMode) string {
	t.Helper()
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// refused checks that Check refuses path under who, blaming object with
// problem p, and saying want.
func refused(t *testing.T, path string, who Owners, object string, p Problem, want string) {
	t.Helper()
	err := Check(path, who)
	var fe *Error
	if !errors.As(err, &fe) || fe.Problem != p || fe.Object != object || fe.Path != path || !strings.Contains(err.Error(), want) {
		t.Fatalf("Check(%s) = %v; want problem %d on %s saying %q", path, err, p, object, want)
	}
}

func TestCheckUnix(t *testing.T) {
	dir := trustedDir(t)
	good := write(t, filepath.Join(dir, "policy.json"), 0o644)
	if err := Check(good, AdminsOrSelf); err != nil {
		t.Fatalf("our own 0644 file in our 0755 dir: %v", err)
	}
	if os.Getuid() == 0 {
		if err := Check(good, Admins); err != nil {
			t.Fatalf("root's 0644 file: %v", err)
		}
	} else {
		refused(t, good, Admins, good, NotOwned, "belongs to uid ")
	}
	if err := Check(filepath.Join(dir, "none.json"), Admins); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}

	world := write(t, filepath.Join(dir, "world.json"), 0o666)
	refused(t, world, AdminsOrSelf, world, Writable, "writable by other users (mode 0666)")

	// A folder writable by others, without the sticky bit: anyone may
	// rename our file away and put theirs in its place.
	open := folder(t, filepath.Join(dir, "open"), 0o777)
	inOpen := write(t, filepath.Join(open, "policy.json"), 0o644)
	refused(t, inOpen, AdminsOrSelf, open, Writable, "writable by other users")

	sticky := folder(t, filepath.Join(dir, "sticky"), 0o777|os.ModeSticky)
	if err := Check(write(t, filepath.Join(sticky, "m.so"), 0o755), AdminsOrSelf); err != nil {
		t.Fatalf("our file in a sticky dir: %v", err)
	}

	// A link in a trusted folder to a file in an untrusted one.
	link := filepath.Join(dir, "link.json")
	os.Symlink(inOpen, link)
	refused(t, link, AdminsOrSelf, open, Writable, "writable by other users")
	// A folder link: the file is reached through a folder that is fine,
	// but the link's own folder is not.
	dirLink := filepath.Join(open, "to-dir")
	os.Symlink(dir, dirLink)
	refused(t, filepath.Join(dirLink, "policy.json"), AdminsOrSelf, open, Writable, "writable by other users")

	// Not a regular file.
	refused(t, sticky, AdminsOrSelf, sticky, NotRegular, "not a regular file")
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err == nil {
		refused(t, fifo, AdminsOrSelf, fifo, NotRegular, "not a regular file")
	}
}

// TestCheckUnixOwners needs root to give files to other accounts.
func TestCheckUnixOwners(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to chown")
	}
	dir := trustedDir(t)
	other := write(t, filepath.Join(dir, "other.json"), 0o644)
	os.Chown(other, 65534, 65534)
	refused(t, other, Admins, other, NotOwned, "belongs to uid 65534, not to root")
	refused(t, other, AdminsOrSelf, other, NotOwned, "belongs to uid 65534, not to root or you")

	// A symlink planted to another account's file.
	link := filepath.Join(dir, "planted.json")
	os.Symlink(other, link)
	refused(t, link, Admins, other, NotOwned, "belongs to uid 65534")

	// Group write: no group may have it, not even root's (gid 0), whose
	// members need not be administrators.
	grp := write(t, filepath.Join(dir, "group.json"), 0o664)
	os.Chown(grp, 0, 0)
	refused(t, grp, Admins, grp, Writable, "writable by group 0 (mode 0664)")
	os.Chown(grp, 0, 65534)
	refused(t, grp, Admins, grp, Writable, "writable by group 65534 (mode 0664)")
	// A group-writable folder above.
	gdir := folder(t, filepath.Join(dir, "gdir"), 0o775)
	inG := write(t, filepath.Join(gdir, "policy.json"), 0o644)
	refused(t, inG, Admins, gdir, Writable, "writable by group ")

	// A folder above owned by another account.
	sub := folder(t, filepath.Join(dir, "theirs"), 0o755)
	in := write(t, filepath.Join(sub, "policy.json"), 0o644)
	os.Chown(sub, 65534, 65534)
	refused(t, in, Admins, sub, NotOwned, "belongs to uid 65534")
}

// The PKCS#11 module of Debian's SoftHSM passes the administrators' rule,
// as root's files under /usr do.
func TestCheckSystemFile(t *testing.T) {
	for _, p := range []string{"/usr/lib/softhsm/libsofthsm2.so", "/etc/passwd"} {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if err := Check(p, Admins); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}
