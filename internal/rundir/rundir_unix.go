//go:build linux || darwin

package rundir

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Dir is the socket's directory: per user, for the files Kyso's processes
// share.
func Dir() (string, error) { return filepath.Dir(SocketPath()), nil }

// maxSocketPath keeps paths within sun_path on every Unix Kyso ships for
// (104 bytes on macOS, 108 on Linux, including the NUL).
const maxSocketPath = 103

// Private makes dir (the socket's, also the shared limits') if needed and
// checks that it is this user's alone.
func Private(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	// In the /tmp fallback another user may have made the directory first,
	// or planted a symlink to one of ours: chmod would follow it, and a
	// socket or lock in a directory someone else owns can be swapped under us.
	if err := ownDir(dir); err != nil {
		return err
	}
	// The dir may predate us with a looser mode; it is what keeps others
	// out between bind and chmod of the socket.
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("chmod %s: %w", dir, err)
	}
	return nil
}

// ownDir checks that dir is a directory (not a symlink) owned by this user.
func ownDir(dir string) error {
	st, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory (a symlink?): refused", dir)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); !ok || int(sys.Uid) != os.Getuid() {
		return fmt.Errorf("%s belongs to another user: refused", dir)
	}
	return nil
}
