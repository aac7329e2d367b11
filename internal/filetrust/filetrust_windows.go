package filetrust

import (
	"errors"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

const (
	adminNames       = "Administrators, SYSTEM or TrustedInstaller"
	adminOrSelfNames = "Administrators, SYSTEM, TrustedInstaller or you"
)

// selfID is the SID of the account the process runs as.
func selfID() (string, error) {
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return "", fmt.Errorf("reading this process's user: %w", err)
	}
	return u.User.Sid.String(), nil
}

func (c checker) object(p string, k kind) error {
	fi, err := os.Stat(p)
	if err != nil {
		return c.fail(p, Unknown, "", "", err)
	}
	if k == kindFile && !fi.Mode().IsRegular() {
		return c.fail(p, NotRegular, "", "", nil)
	}
	if k != kindFile && !fi.IsDir() {
		return c.fail(p, NotRegular, "", "", errors.New("not a folder"))
	}
	// FAT and exFAT volumes have no permissions at all (an error here):
	// anyone may write there, so nothing there is trusted.
	raw, err := windows.GetNamedSecurityInfo(p, windows.SE_FILE_OBJECT,
		windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION)
	return c.checkRaw(p, k, raw, err)
}

// checkRaw applies the rule to a descriptor as Windows returned it (with
// the error of getting it).
func (c checker) checkRaw(object string, k kind, raw *windows.SECURITY_DESCRIPTOR, err error) error {
	if err != nil {
		return c.fail(object, Unknown, "", "", err)
	}
	sd, err := descriptor(raw)
	if err != nil {
		return c.fail(object, Unknown, "", "", err)
	}
	return c.checkSD(object, k, sd)
}

// CheckRegistryKey applies the rule for administrators (Admins) to an open
// registry key (opened with READ_CONTROL, which registry.READ includes):
// only they may own it, set its values, add subkeys, delete it or change
// its permissions. name is how messages name it.
func CheckRegistryKey(k registry.Key, name string) error {
	raw, err := windows.GetSecurityInfo(windows.Handle(k), windows.SE_REGISTRY_KEY,
		windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION)
	return checker{path: name, who: Admins}.checkRaw(name, kindKey, raw, err)
}

// ACE types (winnt.h) of a DACL. A type not named here is not read: the
// descriptor is then not trusted.
const (
	aceAllowed               = 0x0
	aceDenied                = 0x1
	aceAllowedObject         = 0x5
	aceDeniedObject          = 0x6
	aceAllowedCallback       = 0x9
	aceDeniedCallback        = 0xA
	aceAllowedCallbackObject = 0xB
	aceDeniedCallbackObject  = 0xC
)

// descriptor reads the owner and the DACL of a security descriptor into SD.
func descriptor(raw *windows.SECURITY_DESCRIPTOR) (SD, error) {
	owner, _, err := raw.Owner()
	if err != nil {
		return SD{}, fmt.Errorf("reading the owner: %w", err)
	}
	if owner == nil {
		return SD{}, errors.New("no owner")
	}
	sd := SD{Owner: owner.String()}
	dacl, _, err := raw.DACL()
	switch {
	case errors.Is(err, windows.ERROR_OBJECT_NOT_FOUND) || err == nil && dacl == nil:
		sd.NullDACL = true
		return sd, nil
	case err != nil:
		return SD{}, fmt.Errorf("reading the DACL: %w", err)
	}
	for i := uint32(0); i < uint32(dacl.AceCount); i++ {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &ace); err != nil {
			return SD{}, fmt.Errorf("reading entry %d of the DACL: %w", i, err)
		}
		e := ACE{Mask: uint32(ace.Mask), InheritOnly: ace.Header.AceFlags&windows.INHERIT_ONLY_ACE != 0}
		switch ace.Header.AceType {
		case aceDenied, aceDeniedObject, aceDeniedCallback, aceDeniedCallbackObject:
		case aceAllowed, aceAllowedCallback:
			e.Allow = true
			e.SID = (*windows.SID)(unsafe.Pointer(&ace.SidStart)).String()
		case aceAllowedObject, aceAllowedCallbackObject:
			// Object entries keep their SID behind GUIDs and are not
			// expected on files: a grant to an account not named.
			e.Allow = true
			e.SID = fmt.Sprintf("an entry of type %d", ace.Header.AceType)
		default:
			return SD{}, fmt.Errorf("entry %d of the DACL is of type %d, which Kyso does not read", i, ace.Header.AceType)
		}
		sd.DACL = append(sd.DACL, e)
	}
	return sd, nil
}
