// Package filetrust decides whether Kyso may trust a file that another
// local account must not be able to plant or change: the system policy
// (DESIGN, "Origins"), the PKCS#11 modules Kyso loads into its own
// process, and the program a `kyso install --system` registers for every
// user (issue 16, findings 2 and 8). One walk and one rule serve all of
// them, on every OS:
//
// the file, the file a link resolves to, and every folder above both
// belong to a trusted owner and can be changed by no one else.
//
// Trusted owners are the administrators — root on Linux and macOS;
// Administrators, SYSTEM or TrustedInstaller on Windows — and, for the
// files of one user's own choosing (a module named in their config.json),
// that user too (Owners). "Changed by no one else" is, per OS:
//
//   - Unix: no write bit for the group or others, as OpenSSH requires of
//     its own configuration (a group, even root's, may hold accounts that
//     are not administrators). A folder writable by others is accepted
//     only with the sticky bit (like /tmp): others may add names there,
//     never replace ours.
//   - Windows: no allow entry of the DACL (an explicit or an inherited one
//     that applies to the object itself) grants another account the right
//     to write the file's data, delete it, change its ACL or take it over;
//     on a folder, to delete what it holds. Creating new entries in a
//     folder (FILE_ADD_FILE, FILE_ADD_SUBDIRECTORY) is tolerated as the
//     sticky bit is on Unix: every Windows gives Users that right on
//     C:\ProgramData and C:\, and it never replaces an existing name —
//     except in the folder that holds a program (CheckProgram): Windows
//     loads a DLL from a program's own folder before the system's, so a
//     file added there runs inside the program. OWNER RIGHTS stands for
//     the owner, who was checked first. An entry of a type the check does
//     not read, or a missing (null) DACL, which grants everything to
//     everyone, is refused.
//
// The Windows rule is a pure function over the owner's SID and the DACL's
// entries (checkSD), so that it is tested on Linux with the descriptors of
// real Windows folders.
package filetrust

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// Owners says who may own, and alone write, a trusted file.
type Owners int

const (
	// Admins: the administrators only. For the system policy and the
	// modules it names: they act for every user of the machine.
	Admins Owners = iota
	// AdminsOrSelf: the administrators or the account Kyso runs as. For
	// what one user chose for themselves (a module in their config.json).
	AdminsOrSelf
)

// Problem is what is wrong with a file or folder.
type Problem int

const (
	// NotOwned: it belongs to another account.
	NotOwned Problem = iota + 1
	// Writable: another account may change it (write, replace, delete,
	// change its permissions or take ownership).
	Writable
	// NotRegular: the file is not a regular file (a folder, a device…).
	NotRegular
	// Unknown: its owner or permissions cannot be read (the check then
	// refuses: unsure is not trusted).
	Unknown
)

// Who of a Writable problem on Unix: every other account, or a group
// (GroupPrefix and its gid). On Windows, Who is an account (SIDName).
const (
	OtherUsers  = "other users"
	GroupPrefix = "group "
)

// Error says why a file is not trusted: which file or folder (Object) of
// the path is at fault, and how. Doctor turns it into a message in the
// person's language; Error() is the English of the logs.
type Error struct {
	Path    string  // the file that was checked, as given
	Object  string  // the file or folder at fault
	Problem Problem //
	Who     string  // NotOwned: the owner; Writable: who else may change it
	Detail  string  // the mode or access mask, or the cause (Unknown)
	Owners  Owners  // the rule that was applied
	Err     error   // Unknown: the underlying error
}

// Error is the English message of the logs. It names the object at
// fault; callers say which file they checked ("module X: …").
func (e *Error) Error() string {
	switch e.Problem {
	case NotOwned:
		return fmt.Sprintf("%s belongs to %s, not to %s", e.Object, e.Who, e.Owners.Names())
	case Writable:
		return fmt.Sprintf("%s is writable by %s (%s)", e.Object, e.Who, e.Detail)
	case NotRegular:
		return fmt.Sprintf("%s is not a regular file", e.Object)
	}
	return fmt.Sprintf("cannot check who may change %s: %v", e.Object, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Names says in English who the rule trusts.
func (o Owners) Names() string {
	if o == AdminsOrSelf {
		return adminOrSelfNames
	}
	return adminNames
}

// Check reports nil when Kyso may trust path under rule who: the file it
// names, the file it resolves to, and every folder above both, up to the
// root, pass the rule of the package comment. A path that does not exist
// is the *fs.PathError that says so (errors.Is fs.ErrNotExist: callers
// that accept a missing file look for it first); any other error is an
// *Error.
func Check(path string, who Owners) error {
	return checker{path: path, who: who}.run()
}

// CheckProgram is Check for a program that runs for every user (the one a
// --system install registers): the administrators' rule, and on Windows no
// one else may add a file to the folder that holds it (a DLL planted
// beside a program is loaded into it).
func CheckProgram(path string) error {
	return checker{path: path, who: Admins, program: true}.run()
}

func (c checker) run() error {
	self, err := selfID()
	if err != nil {
		return c.fail(c.path, Unknown, "", "", err)
	}
	c.self = self
	err = walk(c.path, func(p string, k kind, holds bool) error {
		if c.program && holds {
			k = kindProgramDir
		}
		return c.object(p, k)
	})
	var fe *Error
	if err == nil || errors.As(err, &fe) || errors.Is(err, os.ErrNotExist) {
		return err
	}
	return c.fail(c.path, Unknown, "", "", err)
}

// walk resolves path and calls visit on the file it resolves to, then on
// each folder above path as written and above that file, each once, up to
// the root: a link in a trusted folder may point into an untrusted one,
// and a trusted file may sit under a folder link another account could
// swap. holds is true for the folders that hold the file or the link to
// it. The first error, of resolving path or of visit, is returned as it
// is.
func walk(path string, visit func(p string, k kind, holds bool) error) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	if err := visit(real, kindFile, false); err != nil {
		return err
	}
	holders := []string{filepath.Dir(filepath.Clean(path)), filepath.Dir(real)}
	seen := map[string]bool{}
	for _, p := range holders {
		for dir := p; !seen[dir]; dir = filepath.Dir(dir) {
			seen[dir] = true
			k := kindDir
			if filepath.Dir(dir) == dir {
				k = kindRoot
			}
			if err := visit(dir, k, slices.Contains(holders, dir)); err != nil {
				return err
			}
		}
	}
	return nil
}

// kind is what a checked object is; what counts as "changing" it depends
// on it.
type kind int

const (
	kindFile kind = iota
	kindDir
	kindRoot       // a volume's or the file system's root folder: it has no parent
	kindKey        // a Windows registry key
	kindProgramDir // the folder that holds a program (CheckProgram)
)

type checker struct {
	path    string
	who     Owners
	program bool   // CheckProgram
	self    string // the account Kyso runs as: a uid or a SID
}

func (c checker) fail(object string, p Problem, who, detail string, err error) *Error {
	return &Error{Path: c.path, Object: object, Problem: p, Who: who, Detail: detail, Owners: c.who, Err: err}
}
