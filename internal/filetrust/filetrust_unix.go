//go:build linux || darwin

package filetrust

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

const (
	adminNames       = "root"
	adminOrSelfNames = "root or you"
)

func selfID() (string, error) { return strconv.Itoa(os.Getuid()), nil }

// object checks one file or folder (following links: what is opened is
// what counts; the links themselves sit in folders this checks too).
func (c checker) object(p string, k kind) error {
	fi, err := os.Stat(p)
	if err != nil {
		return c.fail(p, Unknown, "", "", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return c.fail(p, Unknown, "", "", errors.New("no owner information"))
	}
	if k == kindFile && !fi.Mode().IsRegular() {
		return c.fail(p, NotRegular, "", "", nil)
	}
	if k != kindFile && !fi.IsDir() {
		return c.fail(p, NotRegular, "", "", errors.New("not a folder"))
	}
	return c.unixRule(p, k, uint32(st.Uid), uint32(st.Gid), fi.Mode())
}

// unixRule is the rule of the package comment for one object: its owner,
// group and mode. A program's folder (kindProgramDir) is a folder here:
// the dynamic loader does not look for libraries beside a program.
func (c checker) unixRule(p string, k kind, uid, gid uint32, mode os.FileMode) error {
	owner := strconv.FormatUint(uint64(uid), 10)
	if uid != 0 && !(c.who == AdminsOrSelf && owner == c.self) {
		return c.fail(p, NotOwned, "uid "+owner, "", nil)
	}
	if k != kindFile && mode&os.ModeSticky != 0 {
		return nil // others may add names, not replace ours
	}
	detail := fmt.Sprintf("mode %04o", mode.Perm())
	switch {
	case mode&0o002 != 0:
		return c.fail(p, Writable, OtherUsers, detail, nil)
	case mode&0o020 != 0:
		return c.fail(p, Writable, GroupPrefix+strconv.FormatUint(uint64(gid), 10), detail, nil)
	}
	return nil
}
