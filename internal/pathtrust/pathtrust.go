// Package pathtrust walks what decides whether another account could
// replace a file: the file a path resolves to, and every folder above it —
// of the path as written and of that file. The callers say what an owner
// and a mode (or an ACL) must be: token/pkcs11 for a PKCS#11 module before
// it is loaded, installer for the program a --system install registers for
// every user.
package pathtrust

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrNotRegular: the path does not resolve to a regular file.
var ErrNotRegular = errors.New("not a regular file")

// Check is what a caller requires of one file or folder; fi is what
// os.Stat said of it.
type Check func(path string, fi os.FileInfo, isDir bool) error

// Walk runs check on the regular file path resolves to, then on each folder
// above path and above that file, each once, up to the root; it returns the
// first error, of the walk (wrapping os's) or of check, as it is.
func Walk(path string, check Check) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	fi, err := os.Stat(real)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: %w", path, ErrNotRegular)
	}
	if err := check(real, fi, false); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, p := range []string{filepath.Dir(filepath.Clean(path)), filepath.Dir(real)} {
		for dir := p; !seen[dir]; dir = filepath.Dir(dir) {
			seen[dir] = true
			di, err := os.Stat(dir)
			if err != nil {
				return err
			}
			if err := check(dir, di, true); err != nil {
				return err
			}
		}
	}
	return nil
}
