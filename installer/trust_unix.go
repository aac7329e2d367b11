//go:build linux || darwin

package installer

import (
	"fmt"
	"os"
	"syscall"

	"kyso.vn/kyso/internal/pathtrust"
)

// CheckSystemBinary: the program (as registered, and the file it resolves
// to) and every folder above both must be owned by root and writable by no
// one else; a sticky folder (/tmp) is allowed, since others cannot replace
// root's files in it. The rule of token/pkcs11/modtrust_unix.go for
// modules, with root as the only trusted owner: the program runs for every
// user.
func CheckSystemBinary(path string) error {
	return untrusted(pathtrust.Walk(path, rootOnly))
}

func rootOnly(p string, fi os.FileInfo, isDir bool) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: no owner information", p)
	}
	if st.Uid != 0 {
		return fmt.Errorf("%s belongs to uid %d, not root", p, st.Uid)
	}
	if fi.Mode().Perm()&0o022 != 0 && !(isDir && fi.Mode()&os.ModeSticky != 0) {
		return fmt.Errorf("%s is writable by group or others (mode %v)", p, fi.Mode().Perm())
	}
	return nil
}

func checkPlatform(Options) error { return nil }
