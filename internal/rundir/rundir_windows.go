package rundir

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/windows"
)

// SocketPath is the agent's named pipe, \\.\pipe\kyso-<user SID>: one per
// user, so users of one machine (terminal servers) never meet.
func SocketPath() string {
	sid, err := UserSID()
	if err != nil {
		// Without a SID the pipe could not be restricted either;
		// the agent's ListenLocal reports the error.
		return `\\.\pipe\kyso`
	}
	return `\\.\pipe\kyso-` + sid
}

// UserSID is the SID of the user this process runs as.
var UserSID = sync.OnceValues(func() (string, error) {
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return "", fmt.Errorf("current user SID: %w", err)
	}
	return u.User.Sid.String(), nil
})

// Dir is %LocalAppData%\kyso (the logs' directory): the pipe has no
// directory, and this one is per user and not roamed.
func Dir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("runtime dir: %w", err)
	}
	return filepath.Join(base, "kyso"), nil
}

// Private makes dir if needed and checks that it is a real directory (not
// a link elsewhere) owned by this user. Its ACL is inherited from
// %LocalAppData%, which only the user (and the system) can reach.
func Private(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory (a link?): refused", dir)
	}
	sd, err := windows.GetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT, windows.OWNER_SECURITY_INFORMATION)
	if err != nil {
		return fmt.Errorf("owner of %s: %w", dir, err)
	}
	owner, _, err := sd.Owner()
	if err != nil {
		return fmt.Errorf("owner of %s: %w", dir, err)
	}
	mine, err := UserSID()
	if err != nil {
		return err
	}
	if owner.String() != mine {
		return fmt.Errorf("%s belongs to %s, not this user: refused", dir, owner)
	}
	return nil
}
