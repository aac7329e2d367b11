package installer

import (
	"strconv"

	"golang.org/x/sys/windows"

	"kyso.vn/kyso/messages"
)

// DialogAvailable: a program in session 0 (a service, a scheduled task run
// whether the user is logged on or not) cannot show a window to anyone.
func DialogAvailable() error {
	var session uint32
	if err := windows.ProcessIdToSessionId(windows.GetCurrentProcessId(), &session); err != nil {
		return dialogOther(err)
	}
	if session == 0 {
		return &DialogError{messages.DoctorDialogNoSession.With(strconv.Itoa(int(session))), messages.DoctorDialogNoSessionFix}
	}
	return nil
}
