//go:build linux || darwin

package pkcs11

import (
	"fmt"
	"os"
	"syscall"

	"kyso.vn/kyso/internal/pathtrust"
)

// checkModuleFile refuses a module that another user could replace before
// it is loaded into the agent: the file, and every directory above it (of
// the path as written and of the file it resolves to), must be owned by
// root or by us and not writable by group or others, except directories
// with the sticky bit (like /tmp), where others cannot replace our files.
// The rule is OpenSSH's for its own configuration. A page never names a
// module; this is about another local account planting one in a folder the
// policy or a vendor's installer points at.
func checkModuleFile(path string) error {
	if err := pathtrust.Walk(path, trusted); err != nil {
		return fmt.Errorf("module %s: %w", path, err)
	}
	return nil
}

func trusted(p string, fi os.FileInfo, isDir bool) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if st.Uid != 0 && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("%s belongs to uid %d, not to root or to you: that user could replace the module", p, st.Uid)
	}
	if fi.Mode().Perm()&0o022 != 0 && !(isDir && fi.Mode()&os.ModeSticky != 0) {
		return fmt.Errorf("%s is writable by other users (mode %v): they could replace the module", p, fi.Mode().Perm())
	}
	return nil
}
