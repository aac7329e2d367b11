package installer

import (
	"os"
	"os/exec"

	"kyso.vn/kyso/messages"
)

// DialogAvailable: Kyso's dialogs are the zenity program on a display.
func DialogAvailable() error {
	if _, err := exec.LookPath("zenity"); err != nil {
		return &DialogError{messages.DoctorDialogNoZenity, messages.DoctorDialogNoZenityFix}
	}
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return &DialogError{messages.DoctorDialogNoDisplay, messages.DoctorDialogNoDisplayFix}
	}
	return nil
}
