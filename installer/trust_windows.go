package installer

import (
	"fmt"
	"os"
	"path/filepath"
)

// checkPlatform: the login start runs kysow.exe, the same program linked
// for the GUI subsystem (mk/packages.mk), which must sit beside kyso.exe: a
// console program started at logon would open a console window.
func checkPlatform(o Options) error {
	gui := GUIBinary(o.Binary)
	if _, err := os.Stat(o.Real(gui)); err != nil {
		return fmt.Errorf("installer: %s is missing: the logon start needs it beside %s (it comes with kyso.exe in the MSI and the zip): %w",
			gui, filepath.Base(o.Binary), err)
	}
	return nil
}
