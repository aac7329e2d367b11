package installer

import "fmt"

// The Windows side of CheckSystemBinary, as plain data so that the rule is
// tested on every OS (trust_acl_test.go); trust_windows.go reads the real
// owner and DACL of each file and folder into these.

// fileACE is one access control entry of a file's DACL.
type fileACE struct {
	SID         string
	Mask        uint32
	Allow       bool // ACCESS_ALLOWED_ACE_TYPE; false: ACCESS_DENIED_ACE_TYPE
	InheritOnly bool // applies to children only, not to this object
}

// adminSIDs may own and write the program's files: SYSTEM, the
// Administrators group and TrustedInstaller (the owner of Windows' own
// folders).
var adminSIDs = map[string]bool{
	"S-1-5-18":     true,
	"S-1-5-32-544": true,
	"S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464": true,
}

// inertSIDs never match a real caller in an effective ACE: CREATOR OWNER and
// CREATOR GROUP only mean something in inherited entries.
var inertSIDs = map[string]bool{"S-1-3-0": true, "S-1-3-1": true}

// replaceMask are the rights with which a user could change the program or
// put a file beside it (a DLL Windows would load from the program's folder):
// write or append data (add a file or a subfolder, for a folder), delete
// a child, delete, change the DACL or the owner, and the generic write/all.
const replaceMask = 0x2 | 0x4 | 0x40 | 0x10000 | 0x40000 | 0x80000 | 0x10000000 | 0x40000000

// aclTrusted: owner is an administrator SID and no effective entry allows a
// replacing right to anyone else. Deny entries are not credited (their order
// against allows is not evaluated): refusing too much is the safe side. A
// nil DACL grants everyone everything.
func aclTrusted(path, owner string, dacl []fileACE, nilDACL bool) error {
	if !adminSIDs[owner] {
		return fmt.Errorf("%w: %s is owned by %s, not by administrators or SYSTEM", ErrUntrusted, path, owner)
	}
	if nilDACL {
		return fmt.Errorf("%w: %s has no access control list (everyone may write it)", ErrUntrusted, path)
	}
	for _, a := range dacl {
		if !a.Allow || a.InheritOnly || inertSIDs[a.SID] || a.Mask&replaceMask == 0 {
			continue
		}
		// OWNER RIGHTS is the owner, checked above.
		if adminSIDs[a.SID] || a.SID == "S-1-3-4" {
			continue
		}
		return fmt.Errorf("%w: %s lets %s write or replace it (rights %#x)", ErrUntrusted, path, a.SID, a.Mask)
	}
	return nil
}
