package engine

import (
	"path/filepath"

	"golang.org/x/sys/windows"
)

// systemPolicyPath is the admin's policy file. It has no override: what an
// admin locks, a user cannot unlock. That is why the folder comes from the
// known-folder API and not from %ProgramData%, which the user can change.
func systemPolicyPath() string {
	dir, err := windows.KnownFolderPath(windows.FOLDERID_ProgramData, 0)
	if err != nil || dir == "" {
		dir = `C:\ProgramData`
	}
	return filepath.Join(dir, "Kyso", "policy.json")
}
