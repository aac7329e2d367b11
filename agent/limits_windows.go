package agent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// runtimeDir is %LocalAppData%\kyso (the logs' directory): the pipe has no
// directory, and this one is per user and not roamed.
func runtimeDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("agent: runtime dir: %w", err)
	}
	return filepath.Join(base, "kyso"), nil
}

// privateDir makes dir if needed and checks that it is a real directory (not
// a link elsewhere) owned by this user. Its ACL is inherited from
// %LocalAppData%, which only the user (and the system) can reach.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("agent: create %s: %w", dir, err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("agent: %s: %w", dir, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("agent: %s is not a directory (a link?): refused", dir)
	}
	sd, err := windows.GetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT, windows.OWNER_SECURITY_INFORMATION)
	if err != nil {
		return fmt.Errorf("agent: owner of %s: %w", dir, err)
	}
	owner, _, err := sd.Owner()
	if err != nil {
		return fmt.Errorf("agent: owner of %s: %w", dir, err)
	}
	mine, err := userSID()
	if err != nil {
		return err
	}
	if owner.String() != mine {
		return fmt.Errorf("agent: %s belongs to %s, not this user: refused", dir, owner)
	}
	return nil
}

// openLockFile opens (creating) a lock file. Go's handles are not
// inherited, so dialogs started as child processes never hold the lock.
func openLockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}

// tryLockFile takes f's exclusive lock without waiting; false when another
// handle holds it (in this process or another).
func tryLockFile(f *os.File) (bool, error) {
	err := lockEx(f, windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return false, nil
	}
	return err == nil, err
}

// lockFile waits for f's exclusive lock.
func lockFile(f *os.File) error { return lockEx(f, windows.LOCKFILE_EXCLUSIVE_LOCK) }

// The lock covers the file's first byte; the system releases it when the
// handle closes or the process ends.
func lockEx(f *os.File, flags uint32) error {
	var ol windows.Overlapped
	return windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, 1, 0, &ol)
}

func unlockFile(f *os.File) error {
	var ol windows.Overlapped
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, &ol)
}

// lockFileGone: a file Go opened cannot be removed or replaced while the
// handle is open (no FILE_SHARE_DELETE), so a kept lock file is always the
// one at its path.
func lockFileGone(*os.File) bool { return false }
