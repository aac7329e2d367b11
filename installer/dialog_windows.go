package installer

import (
	"strconv"

	"golang.org/x/sys/windows"
)

// DialogAvailable: a program in session 0 (a service, a scheduled task run
// whether the user is logged on or not) cannot show a window to anyone.
func DialogAvailable() error {
	var session uint32
	if err := windows.ProcessIdToSessionId(windows.GetCurrentProcessId(), &session); err != nil {
		return &DialogError{Key: "Other", Arg: err.Error()}
	}
	if session == 0 {
		return &DialogError{Key: "NoSession", Arg: strconv.Itoa(int(session))}
	}
	return nil
}
