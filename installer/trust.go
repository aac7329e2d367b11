package installer

import (
	"errors"
	"fmt"

	"kyso.vn/kyso/internal/filetrust"
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

// CheckSystemBinary: the program (as registered, and the file it resolves
// to) and every folder above both must belong to the administrators and be
// changeable by no one else, and on Windows no one else may add a file
// beside it (internal/filetrust's CheckProgram, the rule of the system
// policy and its modules). Program Files and /usr/bin pass; a folder a
// user created (C:\Tools, ~/bin, Downloads) does not.
func CheckSystemBinary(path string) error {
	return untrusted(filetrust.CheckProgram(path))
}

// untrusted makes err (of the walk, or a refusal) an ErrUntrusted.
func untrusted(err error) error {
	if err == nil || errors.Is(err, ErrUntrusted) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrUntrusted, err)
}
