package installer

import (
	"errors"
	"fmt"
)

// ErrUntrusted: a --system install was asked to register a program that a
// user who is not an administrator could replace (issue 16, finding 8). The
// login start and every browser of every user would then run whatever that
// user put there.
var ErrUntrusted = errors.New("installer: the program could be replaced by a non-administrator")

// checkInstall runs before anything is written. A --system install on the
// real system (not staged under Root) needs a program only administrators
// can replace; checkPlatform adds what the OS needs (Windows: kysow.exe).
func checkInstall(o Options) error {
	if o.System && o.Root == "" {
		if err := CheckSystemBinary(o.Binary); err != nil {
			return err
		}
	}
	return checkPlatform(o)
}

// untrusted makes err (of the walk, or a refusal) an ErrUntrusted.
func untrusted(err error) error {
	if err == nil || errors.Is(err, ErrUntrusted) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrUntrusted, err)
}
