package limits

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

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
