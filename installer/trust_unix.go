//go:build linux || darwin

package installer

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// CheckSystemBinary: the program (as registered, and the file it resolves
// to) and every folder above both must be owned by root and writable by no
// one else; a sticky folder (/tmp) is allowed, since others cannot replace
// root's files in it. The rule of token/modtrust_unix.go for modules, with
// root as the only trusted owner: the program runs for every user.
func CheckSystemBinary(path string) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrUntrusted, path, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrUntrusted, path, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file", ErrUntrusted, path)
	}
	if err := rootOnly(real, fi, false); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, p := range []string{filepath.Dir(filepath.Clean(path)), filepath.Dir(real)} {
		for dir := p; !seen[dir]; dir = filepath.Dir(dir) {
			seen[dir] = true
			di, err := os.Stat(dir)
			if err != nil {
				return fmt.Errorf("%w: %s: %v", ErrUntrusted, dir, err)
			}
			if err := rootOnly(dir, di, true); err != nil {
				return err
			}
		}
	}
	return nil
}

func rootOnly(p string, fi os.FileInfo, isDir bool) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%w: %s: no owner information", ErrUntrusted, p)
	}
	if st.Uid != 0 {
		return fmt.Errorf("%w: %s belongs to uid %d, not root", ErrUntrusted, p, st.Uid)
	}
	if fi.Mode().Perm()&0o022 != 0 && !(isDir && fi.Mode()&os.ModeSticky != 0) {
		return fmt.Errorf("%w: %s is writable by group or others (mode %v)", ErrUntrusted, p, fi.Mode().Perm())
	}
	return nil
}

func checkPlatform(Options) error { return nil }
