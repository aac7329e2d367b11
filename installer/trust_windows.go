package installer

import (
	"fmt"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/windows"

	"kyso.vn/kyso/internal/pathtrust"
)

// CheckSystemBinary: the program (as registered, and the file it resolves
// to) and every folder above both must be owned by SYSTEM, Administrators
// or TrustedInstaller, with no entry letting anyone else write, delete or
// re-permission them (aclTrusted). Program Files passes; a folder a user
// created (C:\Tools, Downloads) does not.
func CheckSystemBinary(path string) error {
	return untrusted(pathtrust.Walk(path, func(p string, _ os.FileInfo, _ bool) error { return checkACL(p) }))
}

func checkACL(path string) error {
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return fmt.Errorf("%w: %s: reading its permissions: %v", ErrUntrusted, path, err)
	}
	owner, _, err := sd.Owner()
	if err != nil || owner == nil {
		return fmt.Errorf("%w: %s: no owner (%v)", ErrUntrusted, path, err)
	}
	dacl, _, err := sd.DACL()
	if err != nil || dacl == nil {
		return aclTrusted(path, owner.String(), nil, true)
	}
	var aces []fileACE
	for i := uint32(0); i < uint32(dacl.AceCount); i++ {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &ace); err != nil {
			return fmt.Errorf("%w: %s: reading entry %d: %v", ErrUntrusted, path, i, err)
		}
		switch ace.Header.AceType {
		case windows.ACCESS_ALLOWED_ACE_TYPE, windows.ACCESS_DENIED_ACE_TYPE:
		default:
			return fmt.Errorf("%w: %s: an access entry of type %d Kyso does not check", ErrUntrusted, path, ace.Header.AceType)
		}
		sid := (*windows.SID)(unsafe.Pointer(&ace.SidStart))
		aces = append(aces, fileACE{
			SID:         sid.String(),
			Mask:        uint32(ace.Mask),
			Allow:       ace.Header.AceType == windows.ACCESS_ALLOWED_ACE_TYPE,
			InheritOnly: ace.Header.AceFlags&windows.INHERIT_ONLY_ACE != 0,
		})
	}
	return aclTrusted(path, owner.String(), aces, false)
}

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
