package installer

import (
	"os/exec"
	"strings"

	"kyso.vn/kyso/messages"
)

// DialogAvailable: the dialogs (osascript) need the person's Aqua session;
// an ssh login or a LaunchDaemon has none. `launchctl managername` names the
// session of the caller without cgo.
func DialogAvailable() error {
	out, err := exec.Command("/bin/launchctl", "managername").Output()
	if err != nil {
		return dialogOther(err)
	}
	if name := strings.TrimSpace(string(out)); name != "Aqua" {
		return &DialogError{messages.DoctorDialogNoSession.With(name), messages.DoctorDialogNoSessionFix}
	}
	return nil
}
