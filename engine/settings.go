package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"kyso.vn/kyso/protocol"
)

// Settings is the effective policy: the system policy over the user's config
// and approvals (see LoadSettings for the precedence).
type Settings struct {
	AllowedOrigins  []string
	BlockedOrigins  []string
	UserApproval    bool
	AllowLocalhost  bool
	Modules         []string
	Port            int
	PinCacheSeconds int
	TimestampURL    string // system policy only (systempolicy.go)
	// ExtensionIDs are more Chromium-family extension ids (a self-hosted
	// build packed with the admin's key): kyso install writes them into the
	// host manifests and kyso host accepts them as callers. System policy
	// only.
	ExtensionIDs []string

	// ModulesFromSystem: Modules are the system policy's, which only
	// administrators' files may satisfy (token/pkcs11's PolicyModules).
	ModulesFromSystem bool
	// IgnoredUserKeys are the system-only keys the user's config sets
	// (systemOnly): they have no effect, and the log and `kyso doctor`
	// say so, with the file's line.
	IgnoredUserKeys []IgnoredKey
}

// approvalsFileFormat is the format approvals.json is written in.
const approvalsFileFormat = 1

// DefaultPaths returns where the policy files live: the system policy at its
// fixed per-OS place (no override), the user's config.json at configFile or
// in os.UserConfigDir()/kyso, and approvals.json beside the config.
func DefaultPaths(configFile string) (Paths, error) {
	user := configFile
	if user == "" {
		dir, err := os.UserConfigDir()
		if err != nil {
			return Paths{}, fmt.Errorf("locating the user config dir: %w", err)
		}
		user = filepath.Join(dir, "kyso", "config.json")
	}
	return Paths{
		System:    systemPolicyPath(),
		User:      user,
		Approvals: filepath.Join(filepath.Dir(user), "approvals.json"),
	}, nil
}

// fileSettings is one policy file as written. Pointers tell "not set" from
// the zero value, so that a key the admin set wins even when it is false/0.
// The values a type checks (checks.go) are refused as they are read, where
// they are written.
type fileSettings struct {
	AllowedOrigins  []allowPattern `json:"allowedOrigins"`
	BlockedOrigins  []blockPattern `json:"blockedOrigins"`
	UserApproval    *bool          `json:"userApproval"`
	AllowLocalhost  *bool          `json:"allowLocalhost"`
	Modules         []modulePath   `json:"modules"`
	Port            *port          `json:"port"`
	PinCacheSeconds *pinSeconds    `json:"pinCacheSeconds"`
	TimestampURL    *timestampURL  `json:"timestampUrl"`
	ExtensionIDs    []extensionID  `json:"extensionIds"`
}

// approvalsFile is approvals.json: the origins the user chose "Always allow"
// for. Written only by Kyso (atomically), but read as strictly as the rest.
type approvalsFile struct {
	Format   int        `json:"format"`
	Approved []approval `json:"approved"`
}

type approval struct {
	Origin  string    `json:"origin"`
	At      time.Time `json:"at"`
	pattern pattern   // of Origin, checked as it is read
}

// source says where an entry of the effective policy comes from.
type source string

const (
	fromSystem    source = "system policy"
	fromUser      source = "user config"
	fromApprovals source = "approved"
)

type entry struct {
	pattern
	from source
}

// policy is the parsed, effective policy the engine decides with.
type policy struct {
	Settings
	allowed []entry
	blocked []entry
	// userLocked: the system policy set userApproval=false, so the user's
	// own allowedOrigins and approvals are ignored (only the admin's list),
	// and listed in ignored.
	userLocked bool
	ignored    []entry
}

// LoadSettings reads the system policy, the user's config and approvals and
// merges them: a key the system policy sets wins (userApproval, allowLocalhost,
// modules, port); pinCacheSeconds and extensionIds are read from the
// system policy only (in the user's config they are ignored: Warnings);
// blockedOrigins is
// the union of both files;
// allowedOrigins is the union of the system list, the user's list and the
// user's approvals — except that when the system policy sets userApproval
// false, the user's list and approvals are ignored: an admin who turns off
// user approval wants only the admin's list. The system policy counts only
// when administrators alone can change it, and takes Windows Group Policy
// values over the file; keys only it may set are dropped from the user's
// config (systempolicy.go). A missing file counts as empty; a malformed
// one, or a system policy another account could change, is an error naming
// the file (and line), and the engine then denies every origin until it is
// fixed.
func LoadSettings(p Paths) (Settings, error) {
	pol, err := loadPolicy(p)
	if err != nil {
		return Settings{}, err
	}
	return pol.Settings, nil
}

func loadPolicy(p Paths) (*policy, error) {
	sys, err := readSystemPolicy(p)
	if err != nil {
		return nil, err
	}
	var usr fileSettings
	usrData, err := readJSON(p.User, &usr)
	if err != nil {
		return nil, err
	}
	ignored := dropSystemOnly(p.User, usrData, &usr)
	var appr approvalsFile
	if err := readJSONFile(p.Approvals, &appr); err != nil {
		return nil, err
	}
	pol := &policy{Settings: Settings{UserApproval: true, Port: protocol.DefaultPort, IgnoredUserKeys: ignored}}
	for _, f := range []*fileSettings{&usr, &sys} {
		// User first, then system: the system's keys overwrite.
		if f.UserApproval != nil {
			pol.UserApproval = *f.UserApproval
		}
		if f.AllowLocalhost != nil {
			pol.AllowLocalhost = *f.AllowLocalhost
		}
		if f.Modules != nil {
			pol.Modules = make([]string, len(f.Modules))
			for i, m := range f.Modules {
				pol.Modules[i] = string(m)
			}
		}
		if f.Port != nil {
			pol.Port = int(*f.Port)
		}
		if f.PinCacheSeconds != nil {
			pol.PinCacheSeconds = int(*f.PinCacheSeconds)
		}
		if f.TimestampURL != nil {
			pol.TimestampURL = string(*f.TimestampURL)
		}
	}
	pol.ModulesFromSystem = sys.Modules != nil
	pol.userLocked = sys.UserApproval != nil && !*sys.UserApproval
	pol.ExtensionIDs = systemExtensionIDs(sys.ExtensionIDs)

	for _, b := range sys.BlockedOrigins {
		pol.block(b.pattern, fromSystem)
	}
	for _, b := range usr.BlockedOrigins {
		pol.block(b.pattern, fromUser)
	}
	for _, a := range sys.AllowedOrigins {
		pol.allow(a.pattern, fromSystem)
	}
	// The user's entries were read (and checked) even when ignored: a broken
	// file is reported either way.
	user := make([]entry, 0, len(usr.AllowedOrigins)+len(appr.Approved))
	for _, a := range usr.AllowedOrigins {
		user = append(user, entry{a.pattern, fromUser})
	}
	for _, a := range appr.Approved {
		user = append(user, entry{a.pattern, fromApprovals})
	}
	if pol.userLocked {
		pol.ignored = user
		return pol, nil
	}
	for _, e := range user {
		pol.allow(e.pattern, e.from)
	}
	return pol, nil
}

func (p *policy) allow(pt pattern, from source) {
	p.allowed = append(p.allowed, entry{pt, from})
	p.AllowedOrigins = append(p.AllowedOrigins, pt.raw)
}

func (p *policy) block(pt pattern, from source) {
	p.blocked = append(p.blocked, entry{pt, from})
	p.BlockedOrigins = append(p.BlockedOrigins, pt.raw)
}

// readJSONFile reads path into v with the strict reader of requests
// (unmarshalStrict): one JSON object, known keys spelled exactly, each once,
// values of the right type, which their types check as they are read. A
// missing or empty file leaves v empty. Errors name the file and the line,
// from the reader's byte offset.
func readJSONFile(path string, v any) error {
	_, err := readJSON(path, v)
	return err
}

// readJSON is readJSONFile that also returns the file's bytes (nil when
// there is no file), for a warning that names a line (keyLine).
func readJSON(path string, v any) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return data, nil // an empty file is an empty policy
	}
	if err := unmarshalStrict(data, v); err != nil {
		return data, explain(path, data, err)
	}
	return data, nil
}

// keyLine is the line where data's top-level object names key, or 0. The
// data was read as a valid object already.
func keyLine(data []byte, key string) int {
	dec := jsontext.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return 0
	}
	for dec.PeekKind() == '"' {
		at := dec.InputOffset()
		name, err := dec.ReadToken()
		if err != nil {
			return 0
		}
		if name.String() == key {
			return line(data, at)
		}
		if dec.SkipValue() != nil {
			return 0
		}
	}
	return 0
}

// explain turns a decoding error into a message naming the file and line.
func explain(path string, data []byte, err error) error {
	p := whatWentWrong(data, err)
	at := fmt.Sprintf("%s:%d", path, line(data, p.offset))
	switch p.kind {
	case duplicate:
		return fmt.Errorf("%s: key %q given twice", at, p.name)
	case trailing:
		return fmt.Errorf("%s: unexpected data after the JSON object", at)
	case unknown:
		return fmt.Errorf("%s: unknown key %q", at, p.name)
	case wrongType:
		got := valueName(p.got)
		if len(p.value) > 0 && len(p.value) <= 40 {
			got = string(p.value)
		}
		if p.name == "" {
			return fmt.Errorf("%s: must be %s, not %s", at, kindName(p.want), got)
		}
		return fmt.Errorf("%s: %q must be %s, not %s", at, p.name, kindName(p.want), got)
	case invalid:
		return fmt.Errorf("%s: %w", at, p.err)
	}
	if errors.Is(p.err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: invalid JSON: unexpected end of file", at)
	}
	return fmt.Errorf("%s: invalid JSON: %v", at, p.err)
}

// kindName says for people what a field takes.
func kindName(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == nil:
		return "something else"
	case t == reflect.TypeFor[time.Time]():
		return "a time such as \"2025-01-31T08:00:00Z\" (RFC 3339)"
	}
	switch t.Kind() {
	case reflect.Slice:
		return "a list"
	case reflect.Bool:
		return "true or false"
	case reflect.Int:
		return "a whole number"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a " + t.Kind().String()
}

// valueName says for people what a JSON value is.
func valueName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "true or false"
	case 'n':
		return "null"
	case '{':
		return "an object"
	case '[':
		return "a list"
	}
	return k.String()
}

// line is the 1-based line of byte offset off in data, where off is where
// a reader stopped: whitespace and the separators after it are skipped, so
// a value written on the next line is reported there.
func line(data []byte, off int64) int {
	if off > int64(len(data)) || off < 0 {
		off = int64(len(data))
	}
	for off < int64(len(data)) && bytes.IndexByte([]byte(" \t\r\n,:"), data[off]) >= 0 {
		off++
	}
	if off >= int64(len(data)) && off > 0 {
		off = int64(len(data)) - 1 // the end of the file: the last line
		for off > 0 && (data[off] == '\n' || data[off] == '\r') {
			off--
		}
	}
	return 1 + bytes.Count(data[:off], []byte("\n"))
}

// fileSig is what tells that a policy file changed: cheap to stat on every
// request, so `kyso origins allow` and admin edits apply without a restart.
type fileSig struct {
	exists bool
	mod    time.Time
	size   int64
}

func statSig(path string) fileSig {
	if path == "" {
		return fileSig{}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fileSig{}
	}
	return fileSig{exists: true, mod: fi.ModTime(), size: fi.Size()}
}
