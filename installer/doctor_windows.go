package installer

import (
	"fmt"
	"io/fs"
)

// Windows has no exec bit; the file existing is what counts.
func executable(fs.FileInfo) bool { return true }

func portHint(port int) string {
	return fmt.Sprintf("netstat -ano | findstr :%d (the last column is the process id; see it in Task Manager)", port)
}

func startHint() string {
	return `start "" "%LOCALAPPDATA%\..\..\..\Program Files\Kyso\kyso.exe" serve (or sign out and in again)`
}

// On Windows both Chromium and Firefox resolve a relative host path against
// the manifest's folder (the MSI relies on it).
const relativeHostPathOK = true
