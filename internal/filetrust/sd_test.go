package filetrust

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Descriptors of real Windows objects (Windows 10/11, as Get-Acl's Sddl
// shows them), and of what an attacker or a careless admin leaves behind.
const (
	sddlProgramData = "O:SYG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICIIO;GA;;;CO)(A;OICI;0x1200a9;;;BU)(A;CI;DCLCRPCR;;;BU)"
	sddlDriveC      = "O:S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464G:S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464" +
		"D:PAI(A;OICI;FA;;;BA)(A;OICI;FA;;;SY)(A;OICIIO;GA;;;CO)(A;OICI;0x1200a9;;;BU)(A;CI;LC;;;BU)(A;CIIO;DC;;;BU)(A;;0x1301bf;;;AU)(A;OICIIO;SDGXGWGR;;;AU)"
	sddlSystem32 = "O:S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464G:S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464" +
		"D:PAI(A;;FA;;;S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464)(A;CIIO;GA;;;S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464)" +
		"(A;;0x1301bf;;;SY)(A;OICIIO;GA;;;SY)(A;;0x1301bf;;;BA)(A;OICIIO;GA;;;BA)(A;;0x1200a9;;;BU)(A;OICIIO;GXGR;;;BU)(A;OICIIO;GA;;;CO)(A;;0x1200a9;;;AC)(A;OICIIO;GXGR;;;AC)"
	// A vendor DLL in System32, inherited from it.
	sddlSystem32DLL = "O:S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464G:S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464" +
		"D:AI(A;ID;FA;;;S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464)(A;ID;0x1200a9;;;SY)(A;ID;0x1200a9;;;BA)(A;ID;0x1200a9;;;BU)(A;ID;0x1200a9;;;AC)"
	// %ProgramData%\Kyso made by a standard user (the attack): the user
	// owns it, and CREATOR OWNER became full control for them.
	sddlKysoByUser = "O:S-1-5-21-1004336348-1177238915-682003330-1001G:S-1-5-21-1004336348-1177238915-682003330-513" +
		"D:AI(A;ID;FA;;;S-1-5-21-1004336348-1177238915-682003330-1001)(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIIOID;GA;;;CO)(A;OICIID;0x1200a9;;;BU)(A;CIID;DCLCRPCR;;;BU)"
	// %ProgramData%\Kyso made by an administrator by hand: inherited from
	// ProgramData, so Users may add files to it, not replace them.
	sddlKysoByAdmin = "O:BAG:S-1-5-21-1004336348-1177238915-682003330-513" +
		"D:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIIOID;GA;;;CO)(A;OICIID;0x1200a9;;;BU)(A;CIID;DCLCRPCR;;;BU)"
	// policy.json written into it by the administrator.
	sddlPolicyByAdmin = "O:BAG:S-1-5-21-1004336348-1177238915-682003330-513D:AI(A;ID;FA;;;SY)(A;ID;FA;;;BA)(A;ID;FA;;;BA)(A;ID;0x1200a9;;;BU)"
	// policy.json a standard user added to the admin's folder.
	sddlPolicyByUser = "O:S-1-5-21-1004336348-1177238915-682003330-1001G:S-1-5-21-1004336348-1177238915-682003330-513" +
		"D:AI(A;ID;FA;;;SY)(A;ID;FA;;;BA)(A;ID;FA;;;S-1-5-21-1004336348-1177238915-682003330-1001)(A;ID;0x1200a9;;;BU)"
	sddlKeyPolicies = "O:BAG:SYD:AI(A;CIIOID;GA;;;CO)(A;CIID;KA;;;SY)(A;CIID;KA;;;BA)(A;CIID;KR;;;BU)(A;CIID;KR;;;AC)"
)

const userSID = "S-1-5-21-1004336348-1177238915-682003330-1001"

func TestWindowsRule(t *testing.T) {
	msi := msiFolderSDDL(t)
	cases := []struct {
		name string
		sddl string
		k    kind
		who  Owners
		want string // "" = trusted, else what the error must say
	}{
		{"ProgramData", sddlProgramData, kindDir, Admins, ""},
		{"C:\\", sddlDriveC, kindRoot, Admins, ""},
		{"C:\\ were it not a root (Authenticated Users may delete it)", sddlDriveC, kindDir, Admins, `writable by NT AUTHORITY\Authenticated Users (S-1-5-11) (access 0x1301bf)`},
		{"System32", sddlSystem32, kindDir, Admins, ""},
		{"a vendor DLL in System32", sddlSystem32DLL, kindFile, Admins, ""},
		{"Kyso folder made by the MSI", msi, kindDir, Admins, ""},
		{"Kyso folder made by an admin by hand", sddlKysoByAdmin, kindDir, Admins, ""},
		{"policy.json of the admin", sddlPolicyByAdmin, kindFile, Admins, ""},
		{"Kyso folder planted by a user", sddlKysoByUser, kindDir, Admins, "belongs to " + userSID},
		{"policy.json planted by a user", sddlPolicyByUser, kindFile, Admins, "belongs to " + userSID},
		{"policy.json planted by a user, for that user's own module rule", sddlPolicyByUser, kindFile, AdminsOrSelf, ""},
		{"Users may modify the file", "O:BAD:(A;;FA;;;BA)(A;;0x1301bf;;;BU)", kindFile, Admins, `writable by BUILTIN\Users (S-1-5-32-545) (access 0x1301bf)`},
		{"Everyone generic write", "O:SYD:(A;;FA;;;SY)(A;;GW;;;WD)", kindFile, Admins, "writable by Everyone (S-1-1-0)"},
		{"Authenticated Users may append", "O:SYD:(A;;FA;;;SY)(A;;0x4;;;AU)", kindFile, Admins, "Authenticated Users"},
		{"Users may change the ACL", "O:SYD:(A;;FA;;;SY)(A;;WD;;;BU)", kindFile, Admins, `BUILTIN\Users`},
		{"Users may take ownership", "O:SYD:(A;;FA;;;SY)(A;;WO;;;BU)", kindDir, Admins, `BUILTIN\Users`},
		{"Users may delete the file", "O:SYD:(A;;FA;;;SY)(A;;SD;;;BU)", kindFile, Admins, `BUILTIN\Users`},
		{"Users may delete what a folder holds", "O:SYD:(A;;FA;;;SY)(A;;DT;;;BU)", kindDir, Admins, `BUILTIN\Users`},
		{"Users may add files to a folder", "O:SYD:(A;;FA;;;SY)(A;;DCLC;;;BU)", kindDir, Admins, ""},
		{"but not write the file", "O:SYD:(A;;FA;;;SY)(A;;DC;;;BU)", kindFile, Admins, `BUILTIN\Users`},
		{"CREATOR OWNER full control on the object itself", "O:SYD:(A;;FA;;;SY)(A;;GA;;;CO)", kindFile, Admins, "CREATOR OWNER"},
		{"CREATOR OWNER inherit-only", "O:SYD:(A;;FA;;;SY)(A;OICIIO;GA;;;CO)", kindDir, Admins, ""},
		{"a deny entry takes nothing away from the check", "O:SYD:(D;;FA;;;BU)(A;;FA;;;BU)", kindFile, Admins, `BUILTIN\Users`},
		{"no DACL at all", "O:BAD:NO_ACCESS_CONTROL", kindFile, Admins, "no DACL"},
		{"no DACL part", "O:BA", kindFile, Admins, "no DACL"},
		{"an empty DACL grants nothing", "O:BAD:P", kindFile, Admins, ""},
		{"owned by the user, Admins rule", "O:" + userSID + "D:(A;;FA;;;SY)", kindFile, Admins, "belongs to " + userSID},
		{"owned by the user, AdminsOrSelf rule", "O:" + userSID + "D:(A;;FA;;;" + userSID + ")", kindFile, AdminsOrSelf, ""},
		{"owned by another user, AdminsOrSelf rule", "O:S-1-5-21-1-2-3-1002D:(A;;FA;;;SY)", kindFile, AdminsOrSelf, "belongs to S-1-5-21-1-2-3-1002"},
		{"the Policies key", sddlKeyPolicies, kindKey, Admins, ""},
		{"a key Users may set values in", "O:BAD:(A;;KA;;;BA)(A;;0x2;;;BU)", kindKey, Admins, `BUILTIN\Users`},
		{"a key Users may add subkeys to", "O:BAD:(A;;KA;;;BA)(A;;0x4;;;BU)", kindKey, Admins, `BUILTIN\Users`},
		{"a key Users may read", "O:BAD:(A;;KA;;;BA)(A;;KR;;;BU)", kindKey, Admins, ""},
		{"a key with generic write for Users", "O:BAD:(A;;KA;;;BA)(A;;GW;;;BU)", kindKey, Admins, `BUILTIN\Users`},
		{"OWNER RIGHTS stands for the owner", "O:BAD:(A;;FA;;;BA)(A;;FA;;;OW)", kindFile, Admins, ""},
		{"an owner of OWNER RIGHTS is no one trusted", "O:OWD:(A;;FA;;;BA)", kindFile, Admins, "belongs to OWNER RIGHTS"},
		// The folder that holds a program (CheckProgram): adding a file
		// there plants a DLL the program loads.
		{"a program in System32", sddlSystem32, kindProgramDir, Admins, ""},
		{"a program in ProgramData", sddlProgramData, kindProgramDir, Admins, `writable by BUILTIN\Users (S-1-5-32-545)`},
		{"a program in C:\\ (Users may add folders there)", sddlDriveC, kindProgramDir, Admins, `BUILTIN\Users (S-1-5-32-545) (access 0x4)`},
		{"a program's folder Users may add files to", "O:SYD:(A;;FA;;;SY)(A;;DCLC;;;BU)", kindProgramDir, Admins, `BUILTIN\Users`},
		{"a program's folder Users may add folders to", "O:SYD:(A;;FA;;;SY)(A;;LC;;;BU)", kindProgramDir, Admins, `BUILTIN\Users`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sd, err := parseSDDL(c.sddl)
			if err != nil {
				t.Fatal(err)
			}
			ch := checker{path: `C:\ProgramData\Kyso\policy.json`, who: c.who, self: userSID}
			err = ch.checkSD("OBJ", c.k, sd)
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var fe *Error
			if err == nil || !errors.As(err, &fe) || fe.Object != "OBJ" || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an *Error on OBJ saying %q", err, c.want)
			}
		})
	}
}

// msiFolderSDDL is the descriptor the MSI gives %ProgramData%\Kyso
// (installer/windows/MsiLockPermissionsEx.idt, added to the MSI by `make
// msi`).
func msiFolderSDDL(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "installer", "windows", "MsiLockPermissionsEx.idt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, "\t")
		if len(f) >= 4 && f[1] == "KYSODATA" && f[2] == "CreateFolder" {
			return f[3]
		}
	}
	t.Fatal("MsiLockPermissionsEx.idt has no row for KYSODATA")
	return ""
}

// The rule for a --system program (CheckProgram) on the entries Windows
// reports, for the program and for the folder that holds it: each case
// holds for both.
func TestProgramRule(t *testing.T) {
	const (
		system   = sidSystem
		admins   = sidAdministrators
		ti       = sidTrustedInstaller
		users    = "S-1-5-32-545"
		everyone = "S-1-1-0"
		auth     = "S-1-5-11"
		alice    = "S-1-5-21-1-2-3-1001"
		readExec = 0x1200a9 // FILE_GENERIC_READ | FILE_EXECUTE
		full     = 0x1f01ff
	)
	allow := func(sid string, mask uint32) ACE { return ACE{SID: sid, Mask: mask, Allow: true} }
	// Program Files as Windows ships it.
	programFiles := []ACE{
		allow(ti, full), allow(system, full), allow(admins, full), allow(users, readExec),
		{SID: "S-1-3-0", Mask: genericAll, Allow: true, InheritOnly: true}, // CREATOR OWNER
		allow("S-1-15-2-1", readExec),                                      // ALL APPLICATION PACKAGES
	}
	plus := func(e ACE) []ACE { return append(slices.Clone(programFiles), e) }
	for _, c := range []struct {
		name string
		sd   SD
		ok   bool
	}{
		{"Program Files", SD{Owner: ti, DACL: programFiles}, true},
		{"owned by Administrators", SD{Owner: admins, DACL: programFiles}, true},
		{"owned by a user", SD{Owner: alice, DACL: programFiles}, false},
		{"no DACL", SD{Owner: admins, NullDACL: true}, false},
		{"Users may add files (C:\\ root folder)", SD{Owner: admins, DACL: plus(allow(users, 0x4))}, false},
		{"Authenticated Users modify (a folder made by hand)", SD{Owner: admins, DACL: plus(allow(auth, 0x1301bf))}, false},
		{"Everyone full control", SD{Owner: system, DACL: []ACE{allow(everyone, full)}}, false},
		{"a user may change the DACL", SD{Owner: admins, DACL: plus(allow(alice, 0x40000))}, false},
		{"GENERIC_WRITE to a user", SD{Owner: admins, DACL: plus(allow(alice, 0x40000000))}, false},
		{"inherit-only write to Users (for children only)", SD{Owner: admins, DACL: plus(ACE{SID: users, Mask: full, Allow: true, InheritOnly: true})}, true},
		{"a deny entry is not credited", SD{Owner: admins, DACL: []ACE{{SID: users, Mask: full}, allow(users, full)}}, false},
		{"OWNER RIGHTS", SD{Owner: admins, DACL: plus(allow("S-1-3-4", full))}, true},
	} {
		for _, k := range []kind{kindFile, kindProgramDir} {
			err := checker{path: `C:\Program Files\Kyso\kyso.exe`, who: Admins, program: true}.checkSD(`C:\x`, k, c.sd)
			var fe *Error
			if (err == nil) != c.ok || err != nil && !errors.As(err, &fe) {
				t.Errorf("%s (kind %d): %v, want ok=%v", c.name, k, err, c.ok)
			}
		}
	}
}
