package filetrust

import "fmt"

// SD is what the Windows rule looks at in an object's security descriptor:
// its owner and its DACL. It is plain data, so that the rule (checkSD) runs
// and is tested on every OS; filetrust_windows.go fills it from the real
// descriptor.
type SD struct {
	Owner string // the owner's SID, "S-1-5-32-544"
	// NullDACL: the descriptor has no DACL at all, which grants every
	// right to everyone (not to be confused with an empty DACL, which
	// grants nothing).
	NullDACL bool
	DACL     []ACE
}

// ACE is one entry of a DACL.
type ACE struct {
	// Allow: an entry that grants rights. Deny entries are skipped: they
	// only take rights away, and ignoring them can only make the check
	// refuse more, never less.
	Allow bool
	// InheritOnly: the entry is only passed on to children and does not
	// apply to the object itself.
	InheritOnly bool
	Mask        uint32
	SID         string // the account or group it applies to
}

// Well-known SIDs.
const (
	sidSystem           = "S-1-5-18"
	sidAdministrators   = "S-1-5-32-544"
	sidTrustedInstaller = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"
	// sidOwnerRights stands for the object's owner, whom the rule checks
	// first: an entry for it grants nothing to anyone else.
	sidOwnerRights = "S-1-3-4"
)

// adminSIDs are the trusted owners on Windows.
var adminSIDs = map[string]bool{sidSystem: true, sidAdministrators: true, sidTrustedInstaller: true}

// sidNames names the SIDs people meet in a folder's permissions.
var sidNames = map[string]string{
	sidSystem:           `NT AUTHORITY\SYSTEM`,
	sidAdministrators:   `BUILTIN\Administrators`,
	sidTrustedInstaller: `NT SERVICE\TrustedInstaller`,
	"S-1-1-0":           "Everyone",
	"S-1-3-0":           "CREATOR OWNER",
	"S-1-3-1":           "CREATOR GROUP",
	"S-1-3-4":           "OWNER RIGHTS",
	"S-1-5-2":           `NT AUTHORITY\NETWORK`,
	"S-1-5-4":           `NT AUTHORITY\INTERACTIVE`,
	"S-1-5-7":           `NT AUTHORITY\ANONYMOUS LOGON`,
	"S-1-5-11":          `NT AUTHORITY\Authenticated Users`,
	"S-1-5-32-545":      `BUILTIN\Users`,
	"S-1-5-32-546":      `BUILTIN\Guests`,
	"S-1-5-32-547":      `BUILTIN\Power Users`,
	"S-1-15-2-1":        "ALL APPLICATION PACKAGES",
}

// SIDName is a SID as people read it: "BUILTIN\Users (S-1-5-32-545)".
func SIDName(sid string) string {
	if n, ok := sidNames[sid]; ok {
		return n + " (" + sid + ")"
	}
	return sid
}

// Access rights (winnt.h).
const (
	fileWriteData   = 0x2 // a folder: FILE_ADD_FILE
	fileAppendData  = 0x4 // a folder: FILE_ADD_SUBDIRECTORY
	fileDeleteChild = 0x40
	keySetValue     = 0x2
	keyCreateSubKey = 0x4
	keyCreateLink   = 0x20
	rightDelete     = 0x10000
	rightWriteDAC   = 0x40000
	rightWriteOwner = 0x80000
	maximumAllowed  = 0x02000000
	genericAll      = 0x10000000
	genericWrite    = 0x40000000

	fileGenericWrite = 0x120116 // what GENERIC_WRITE means for a file or folder
	fileAllAccess    = 0x1F01FF
	keyWrite         = 0x20006
	keyAllAccess     = 0xF003F
)

// changeRights are the rights that let another account change what Kyso
// reads, per kind of object (see the package comment).
func changeRights(k kind) uint32 {
	takeOver := uint32(rightWriteDAC | rightWriteOwner)
	switch k {
	case kindFile:
		return takeOver | rightDelete | fileWriteData | fileAppendData
	case kindDir:
		return takeOver | rightDelete | fileDeleteChild
	case kindRoot:
		// A volume's root cannot be deleted or renamed: DELETE on it (which
		// Windows gives Authenticated Users on C:\) changes nothing.
		return takeOver | fileDeleteChild
	case kindProgramDir:
		// A file added beside a program is a DLL it may load: adding is
		// changing it.
		return takeOver | rightDelete | fileDeleteChild | fileWriteData | fileAppendData
	}
	return takeOver | rightDelete | keySetValue | keyCreateSubKey | keyCreateLink
}

// mapGeneric turns the generic rights of an entry into the object's own.
func mapGeneric(mask uint32, k kind) uint32 {
	all, write := uint32(fileAllAccess), uint32(fileGenericWrite)
	if k == kindKey {
		all, write = keyAllAccess, keyWrite
	}
	if mask&(genericAll|maximumAllowed) != 0 {
		mask |= all
	}
	if mask&genericWrite != 0 {
		mask |= write
	}
	return mask
}

// checkSD applies the Windows rule to one object's descriptor.
func (c checker) checkSD(object string, k kind, sd SD) error {
	if !c.trustedOwner(sd.Owner) {
		return c.fail(object, NotOwned, SIDName(sd.Owner), "", nil)
	}
	if sd.NullDACL {
		return c.fail(object, Writable, "Everyone", "no DACL: every right to everyone", nil)
	}
	bad := changeRights(k)
	// OWNER RIGHTS is the owner, checked just above.
	for _, e := range sd.DACL {
		if !e.Allow || e.InheritOnly || e.SID == sidOwnerRights || c.trustedOwner(e.SID) {
			continue
		}
		if got := mapGeneric(e.Mask, k) & bad; got != 0 {
			return c.fail(object, Writable, SIDName(e.SID), fmt.Sprintf("access 0x%x", e.Mask), nil)
		}
	}
	return nil
}

// trustedOwner: sid may own, and change, what the rule accepts.
func (c checker) trustedOwner(sid string) bool {
	return adminSIDs[sid] || c.who == AdminsOrSelf && sid == c.self && sid != ""
}
