package installer

import (
	"errors"
	"testing"
)

// The Windows rule for a --system program, on the entries Windows reports
// (GetNamedSecurityInfo); tested here on every OS.
func TestACLTrusted(t *testing.T) {
	const (
		system   = "S-1-5-18"
		admins   = "S-1-5-32-544"
		ti       = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"
		users    = "S-1-5-32-545"
		everyone = "S-1-1-0"
		auth     = "S-1-5-11"
		alice    = "S-1-5-21-1-2-3-1001"
		readExec = 0x1200a9 // FILE_GENERIC_READ | FILE_EXECUTE
		full     = 0x1f01ff
	)
	// Program Files as Windows ships it.
	programFiles := []fileACE{
		{SID: ti, Mask: full, Allow: true},
		{SID: system, Mask: full, Allow: true},
		{SID: admins, Mask: full, Allow: true},
		{SID: users, Mask: readExec, Allow: true},
		{SID: "S-1-3-0", Mask: 0x10000000, Allow: true, InheritOnly: true}, // CREATOR OWNER
		{SID: "S-1-15-2-1", Mask: readExec, Allow: true},                   // ALL APPLICATION PACKAGES
	}
	for _, c := range []struct {
		name    string
		owner   string
		dacl    []fileACE
		nilDACL bool
		ok      bool
	}{
		{"Program Files", ti, programFiles, false, true},
		{"owned by Administrators", admins, programFiles, false, true},
		{"owned by a user", alice, programFiles, false, false},
		{"no DACL", admins, nil, true, false},
		{"Users may add files (C:\\ root folder)", admins, append(programFiles, fileACE{SID: users, Mask: 0x4, Allow: true}), false, false},
		{"Authenticated Users modify (a folder made by hand)", admins, append(programFiles, fileACE{SID: auth, Mask: 0x1301bf, Allow: true}), false, false},
		{"Everyone full control", system, []fileACE{{SID: everyone, Mask: full, Allow: true}}, false, false},
		{"a user may change the DACL", admins, append(programFiles, fileACE{SID: alice, Mask: 0x40000, Allow: true}), false, false},
		{"GENERIC_WRITE to a user", admins, append(programFiles, fileACE{SID: alice, Mask: 0x40000000, Allow: true}), false, false},
		{"inherit-only write to Users (for children only)", admins, append(programFiles, fileACE{SID: users, Mask: full, Allow: true, InheritOnly: true}), false, true},
		{"a deny entry is not credited", admins, []fileACE{{SID: users, Mask: full, Allow: false}, {SID: users, Mask: full, Allow: true}}, false, false},
		{"OWNER RIGHTS", admins, append(programFiles, fileACE{SID: "S-1-3-4", Mask: full, Allow: true}), false, true},
	} {
		err := aclTrusted(`C:\x`, c.owner, c.dacl, c.nilDACL)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrUntrusted)) {
			t.Errorf("%s: %v, want ok=%v", c.name, err, c.ok)
		}
	}
}
