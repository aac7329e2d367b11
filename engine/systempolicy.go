package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"kyso.vn/kyso/internal/filetrust"
)

// The administrators' policy (DESIGN, "Origins"): it speaks for every user
// of the machine, so it counts only when no one else can have written it,
// and some keys are its alone.

// readSystemPolicy reads the system policy: the file, when administrators
// alone can change it and every folder above it (internal/filetrust), then,
// on Windows, the Group Policy values over it. A missing file is an empty
// policy; one another account could have planted or changed is an error,
// and the engine denies every origin until it is fixed.
func readSystemPolicy(p Paths) (fileSettings, error) {
	var sys fileSettings
	if err := trustSystemFile(p); err != nil {
		return sys, err
	}
	if err := readJSONFile(p.System, &sys); err != nil {
		return sys, err
	}
	vals, found, err := readGroupPolicy()
	if err != nil || !found {
		return sys, err
	}
	gp, err := groupPolicySettings(vals)
	if err != nil {
		return sys, err
	}
	overlay(&sys, &gp)
	return sys, nil
}

// UntrustedPolicy is the error of a system policy that another account
// than the administrators could have written: Kyso does not use it, and
// denies every origin until it is fixed. Err is the *filetrust.Error that
// says which file or folder, and why (`kyso doctor` shows it).
type UntrustedPolicy struct {
	Path string
	Err  error
}

func (e *UntrustedPolicy) Error() string {
	return fmt.Sprintf("the system policy %s is not used (every origin is denied): %v", e.Path, e.Err)
}

func (e *UntrustedPolicy) Unwrap() error { return e.Err }

// trustSystemFile checks who may change the system policy file. Only a
// file that is not there at all is fine without a look: no policy is the
// defaults. A dangling link is there, and refused.
func trustSystemFile(p Paths) error {
	if p.System == "" {
		return nil
	}
	if _, err := os.Lstat(p.System); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	who := filetrust.Admins
	if p.systemMayBeOurs {
		who = filetrust.AdminsOrSelf
	}
	if err := filetrust.Check(p.System, who); err != nil {
		return &UntrustedPolicy{Path: p.System, Err: err}
	}
	return nil
}

// systemOnly are the keys only the system policy may set. In a user's
// config.json they are dropped (dropSystemOnly), and the log and `kyso
// doctor` say so, with the file's line: anything that runs as the user can
// write that file, and each of these keys changes, for every page, what a
// signature is (timestampUrl), who may ask for one (extensionIds: the
// extensions that may start the native host) or whether the person types
// the PIN for each (pinCacheSeconds: a program of the user's must not turn
// it off). Add a key here, with the field it clears.
var systemOnly = []struct {
	key  string
	drop func(*fileSettings) bool // clears the key; reports whether it was set
}{
	{"timestampUrl", func(f *fileSettings) bool { return unset(&f.TimestampURL) }},
	{"extensionIds", func(f *fileSettings) bool { return unsetList(&f.ExtensionIDs) }},
	{"pinCacheSeconds", func(f *fileSettings) bool { return unset(&f.PinCacheSeconds) }},
}

// unset sets *p to nil and reports whether it was set.
func unset[T any](p **T) bool {
	set := *p != nil
	*p = nil
	return set
}

// unsetList is unset for a list: an empty list written in the file is set.
func unsetList[T any](p *[]T) bool {
	set := *p != nil
	*p = nil
	return set
}

// IgnoredKey is a key of the user's config that only the system policy may
// set: it has no effect. Line is where the file names it (0: not known).
type IgnoredKey struct {
	Key  string
	File string
	Line int
}

// Where is the file and line, as messages name them: "config.json:2".
func (k IgnoredKey) Where() string {
	if k.Line == 0 {
		return k.File
	}
	return fmt.Sprintf("%s:%d", k.File, k.Line)
}

// String is the English of the logs.
func (k IgnoredKey) String() string {
	return fmt.Sprintf("%s: %s is read from the system policy only; ignored here", k.Where(), k.Key)
}

// dropSystemOnly clears from the user's settings (read from path, whose
// bytes are data) the keys only the system policy may set, and says which
// it cleared and on which line.
func dropSystemOnly(path string, data []byte, f *fileSettings) []IgnoredKey {
	var dropped []IgnoredKey
	for _, k := range systemOnly {
		if k.drop(f) {
			dropped = append(dropped, IgnoredKey{Key: k.key, File: path, Line: keyLine(data, k.key)})
		}
	}
	return dropped
}

// warnIgnored logs the system-only keys of the user's config, once per
// reading of the files.
func (e *Engine) warnIgnored(pol *policy) {
	if pol == nil {
		return
	}
	for _, k := range pol.IgnoredUserKeys {
		e.o.Log.Warn().Str("key", k.Key).Str("file", k.File).Int("line", k.Line).
			Msg("the user config sets a key only the system policy may set; it is ignored")
	}
}

// timestampURL is timestampUrl: the RFC 3161 timestamp authority of
// document signatures.
type timestampURL string

func (u *timestampURL) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	var s string
	if err := jsonv2.UnmarshalDecode(dec, &s); err != nil {
		return err
	}
	if err := checkTimestampURL(s); err != nil {
		return &invalidValue{err}
	}
	*u = timestampURL(s)
	return nil
}

// checkTimestampURL: an absolute http or https URL with a host, written in
// lowercase scheme, no user name or password (the policy file is readable
// by every user), no fragment, no spaces. Plain http is allowed: most
// timestamp authorities serve RFC 3161 over http, and the answer is signed
// by the authority, so the transport adds no trust.
func checkTimestampURL(s string) error {
	bad := func(why string) error { return fmt.Errorf("timestampUrl %q: %s", s, why) }
	if len(s) > 2048 {
		return fmt.Errorf("timestampUrl: longer than 2048 characters")
	}
	if strings.ContainsAny(s, " \t\r\n") {
		return bad("must not contain spaces")
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return bad("not a URL")
	case !strings.HasPrefix(s, "https://") && !strings.HasPrefix(s, "http://"):
		return bad("must begin with https:// or http://")
	case u.Opaque != "" || u.Hostname() == "":
		return bad("must name a host")
	case u.User != nil:
		return bad("must not hold a user name or password: every user can read the policy")
	case u.Fragment != "" || strings.Contains(s, "#"):
		return bad("must not have a #fragment")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return bad("port must be 1–65535")
		}
	}
	return nil
}

// overlay sets in dst every key src sets: src wins, key by key, except
// blockedOrigins, where both lists count (blocking never loosens).
func overlay(dst, src *fileSettings) {
	d, s := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem()
	for i := 0; i < s.NumField(); i++ {
		f := s.Field(i)
		if f.IsNil() { // every field is a pointer or a slice: nil is "not set"
			continue
		}
		if d.Type().Field(i).Name == "BlockedOrigins" {
			d.Field(i).Set(reflect.AppendSlice(d.Field(i), f))
			continue
		}
		d.Field(i).Set(f)
	}
}

// Windows Group Policy (DESIGN, "Origins"): the keys of policy.json as
// values of HKLM\SOFTWARE\Policies\Kyso, read on Windows only
// (grouppolicy_windows.go) and checked here like the file.

// gpKey names the Group Policy key in messages.
const gpKey = `HKLM\SOFTWARE\Policies\Kyso`

// Registry value types (winnt.h).
const (
	regSZ       = 1
	regExpandSZ = 2
	regDWORD    = 4
	regMultiSZ  = 7
	regQWORD    = 11
)

// regValue is one value of the Group Policy key.
type regValue struct {
	name string
	typ  uint32
	str  string   // REG_SZ
	strs []string // REG_MULTI_SZ
	num  uint64   // REG_DWORD
}

// gpKeys maps each key of policy.json to the registry type it takes: lists
// are REG_MULTI_SZ (one entry a line), true/false and numbers REG_DWORD
// (true is 1, false 0), text REG_SZ.
var gpKeys = map[string]uint32{
	"allowedOrigins":  regMultiSZ,
	"blockedOrigins":  regMultiSZ,
	"modules":         regMultiSZ,
	"userApproval":    regDWORD,
	"allowLocalhost":  regDWORD,
	"port":            regDWORD,
	"pinCacheSeconds": regDWORD,
	"timestampUrl":    regSZ,
	"extensionIds":    regMultiSZ,
}

var regTypeNames = map[uint32]string{regSZ: "REG_SZ", regExpandSZ: "REG_EXPAND_SZ", regDWORD: "REG_DWORD",
	regMultiSZ: "REG_MULTI_SZ", regQWORD: "REG_QWORD"}

func regTypeName(t uint32) string {
	if n, ok := regTypeNames[t]; ok {
		return n
	}
	return "registry type " + strconv.FormatUint(uint64(t), 10)
}

// groupPolicySettings reads the Group Policy values as a policy file: each
// value becomes its key's JSON and goes through the file's strict reader,
// so every check of policy.json holds for the registry too. Value names
// match keys without regard to case, as the registry itself does (it
// cannot hold two values differing only in case). A value of no known key,
// or of the wrong type, is an error: the policy is then broken, as a file
// with an unknown key is.
func groupPolicySettings(vals []regValue) (fileSettings, error) {
	var all fileSettings
	for _, v := range vals {
		if v.name == "" {
			continue // the key's default value: not a setting
		}
		key, want := "", uint32(0)
		for k, t := range gpKeys {
			if strings.EqualFold(k, v.name) {
				key, want = k, t
			}
		}
		at := gpKey + `\` + v.name
		if key == "" {
			return all, fmt.Errorf("%s: unknown value (the names are the keys of policy.json, docs/policy.md)", at)
		}
		var js any
		switch {
		case want == regMultiSZ && v.typ == regMultiSZ:
			js = append([]string{}, v.strs...)
		case want == regSZ && v.typ == regSZ:
			js = v.str
		case want == regDWORD && v.typ == regDWORD && (key == "userApproval" || key == "allowLocalhost"):
			if v.num > 1 {
				return all, fmt.Errorf("%s: must be 1 (true) or 0 (false), not %d", at, v.num)
			}
			js = v.num == 1
		case want == regDWORD && v.typ == regDWORD:
			js = v.num
		default:
			return all, fmt.Errorf("%s: must be %s, not %s", at, regTypeName(want), regTypeName(v.typ))
		}
		b, err := jsonv2.Marshal(map[string]any{key: js})
		if err != nil {
			return all, fmt.Errorf("%s: %w", at, err)
		}
		var one fileSettings
		if err := unmarshalStrict(b, &one); err != nil {
			if p := whatWentWrong(b, err); p.kind == invalid {
				return all, fmt.Errorf("%s: %w", at, p.err)
			}
			return all, fmt.Errorf("%s: %v", at, err)
		}
		overlay(&all, &one)
	}
	return all, nil
}
