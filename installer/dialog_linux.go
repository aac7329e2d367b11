package installer

import (
	"os"
	"os/exec"
)

// DialogAvailable: Kyso's dialogs are the zenity program on a display.
func DialogAvailable() error {
	if _, err := exec.LookPath("zenity"); err != nil {
		return &DialogError{Key: "NoZenity"}
	}
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return &DialogError{Key: "NoDisplay"}
	}
	return nil
}
