package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
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
	// ExtensionIDs are more Chromium-family extension ids (a self-hosted
	// build packed with the admin's key): kyso install writes them into the
	// host manifests and kyso host accepts them as callers. System policy
	// only.
	ExtensionIDs []string
	// Warnings are problems that change nothing but that the person or the
	// admin should hear of (a system-only key in the user's config); the
	// log and kyso doctor show them.
	Warnings []string
}

// Defaults of the keys nobody set.
const (
	DefaultPort         = 28418
	maxPinCacheSeconds  = 24 * 3600
	approvalsFileFormat = 1
)

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
type fileSettings struct {
	AllowedOrigins  []string `json:"allowedOrigins"`
	BlockedOrigins  []string `json:"blockedOrigins"`
	UserApproval    *bool    `json:"userApproval"`
	AllowLocalhost  *bool    `json:"allowLocalhost"`
	Modules         []string `json:"modules"`
	Port            *int     `json:"port"`
	PinCacheSeconds *int     `json:"pinCacheSeconds"`
	ExtensionIDs    []string `json:"extensionIds"`
}

// approvalsFile is approvals.json: the origins the user chose "Always allow"
// for. Written only by Kyso (atomically), but read as strictly as the rest.
type approvalsFile struct {
	Format   int        `json:"format"`
	Approved []approval `json:"approved"`
}

type approval struct {
	Origin string    `json:"origin"`
	At     time.Time `json:"at"`
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
	// own allowedOrigins and approvals are ignored (only the admin's list).
	userLocked bool
	approvals  []approval
}

// LoadSettings reads the system policy, the user's config and approvals and
// merges them: a key the system policy sets wins (userApproval, allowLocalhost,
// modules, port, pinCacheSeconds); blockedOrigins is the union of both files;
// allowedOrigins is the union of the system list, the user's list and the
// user's approvals — except that when the system policy sets userApproval
// false, the user's list and approvals are ignored: an admin who turns off
// user approval wants only the admin's list. A missing file counts as empty;
// a malformed one is an error naming the file and line, and the engine then
// denies every origin until it is fixed.
func LoadSettings(p Paths) (Settings, error) {
	pol, err := loadPolicy(p)
	if err != nil {
		return Settings{}, err
	}
	return pol.Settings, nil
}

func loadPolicy(p Paths) (*policy, error) {
	var sys, usr fileSettings
	if err := readJSONFile(p.System, &sys); err != nil {
		return nil, err
	}
	if err := readJSONFile(p.User, &usr); err != nil {
		return nil, err
	}
	var appr approvalsFile
	if err := readJSONFile(p.Approvals, &appr); err != nil {
		return nil, err
	}
	pol := &policy{Settings: Settings{UserApproval: true, Port: DefaultPort}}
	for _, f := range []struct {
		path string
		s    *fileSettings
		from source
	}{{p.User, &usr, fromUser}, {p.System, &sys, fromSystem}} {
		// User first, then system: the system's keys overwrite.
		if err := f.s.validate(f.path); err != nil {
			return nil, err
		}
		if f.s.UserApproval != nil {
			pol.UserApproval = *f.s.UserApproval
		}
		if f.s.AllowLocalhost != nil {
			pol.AllowLocalhost = *f.s.AllowLocalhost
		}
		if f.s.Modules != nil {
			pol.Modules = f.s.Modules
		}
		if f.s.Port != nil {
			pol.Port = *f.s.Port
		}
		if f.s.PinCacheSeconds != nil {
			pol.PinCacheSeconds = *f.s.PinCacheSeconds
		}
	}
	pol.userLocked = sys.UserApproval != nil && !*sys.UserApproval
	if err := systemExtensionIDs(pol, p, sys.ExtensionIDs, usr.ExtensionIDs); err != nil {
		return nil, err
	}

	add := func(list *[]entry, strs *[]string, raws []string, blocking bool, from source, path string) error {
		for _, r := range raws {
			pt, err := parsePattern(r, blocking)
			if err != nil {
				return fmt.Errorf("%s%s: %w", path, lineOf(path, r), err)
			}
			*list = append(*list, entry{pt, from})
			*strs = append(*strs, r)
		}
		return nil
	}
	if err := add(&pol.blocked, &pol.BlockedOrigins, sys.BlockedOrigins, true, fromSystem, p.System); err != nil {
		return nil, err
	}
	if err := add(&pol.blocked, &pol.BlockedOrigins, usr.BlockedOrigins, true, fromUser, p.User); err != nil {
		return nil, err
	}
	if err := add(&pol.allowed, &pol.AllowedOrigins, sys.AllowedOrigins, false, fromSystem, p.System); err != nil {
		return nil, err
	}
	// Parse the user's entries even when they are ignored: a broken file is
	// reported either way.
	var userAllowed []entry
	var ignored []string
	if err := add(&userAllowed, &ignored, usr.AllowedOrigins, false, fromUser, p.User); err != nil {
		return nil, err
	}
	for i, a := range appr.Approved {
		pt, err := parsePattern(a.Origin, false)
		if err == nil && pt.wildcard {
			err = errors.New("an approval is an exact origin")
		}
		if err != nil {
			at := lineOf(p.Approvals, a.Origin)
			if at == "" { // no "origin" (or null): the line of the entry
				at = lineOfEntry(p.Approvals, i)
			}
			return nil, fmt.Errorf("%s%s: %w", p.Approvals, at, err)
		}
		userAllowed = append(userAllowed, entry{pt, fromApprovals})
	}
	pol.approvals = appr.Approved
	if !pol.userLocked {
		for _, e := range userAllowed {
			pol.allowed = append(pol.allowed, e)
			pol.AllowedOrigins = append(pol.AllowedOrigins, e.raw)
		}
	}
	return pol, nil
}

func (s *fileSettings) validate(path string) error {
	for _, m := range s.Modules {
		if !filepath.IsAbs(m) {
			return fmt.Errorf("%s%s: module %q: must be an absolute path", path, lineOf(path, m), m)
		}
	}
	if s.Port != nil && (*s.Port < 1 || *s.Port > 65535) {
		return fmt.Errorf("%s%s: port %d: must be 1–65535", path, lineOfKey(path, "port"), *s.Port)
	}
	if s.PinCacheSeconds != nil && (*s.PinCacheSeconds < 0 || *s.PinCacheSeconds > maxPinCacheSeconds) {
		return fmt.Errorf("%s%s: pinCacheSeconds %d: must be 0–%d", path, lineOfKey(path, "pinCacheSeconds"),
			*s.PinCacheSeconds, maxPinCacheSeconds)
	}
	return nil
}

// readJSONFile decodes path strictly into v (one JSON object, no unknown
// keys, right types). A missing file leaves v empty. Errors name the file and
// the line.
func readJSONFile(path string, v any) error {
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil // an empty file is an empty policy
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			return fmt.Errorf("%s:%d: unexpected data after the JSON object", path, line(data, dec.InputOffset()))
		}
		return nil
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("%s:%d: invalid JSON: %v", path, line(data, syn.Offset), err)
	case errors.As(err, &typ):
		return fmt.Errorf("%s:%d: %q must be %s, not %s", path, line(data, typ.Offset), typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s:%d: invalid JSON: unexpected end of file", path, line(data, int64(len(data))))
	}
	// Unknown keys: encoding/json gives no offset, so find the key.
	var key string
	if _, e := fmt.Sscanf(err.Error(), "json: unknown field %q", &key); e == nil {
		return fmt.Errorf("%s%s: unknown key %q", path, lineOfKeyIn(data, key), key)
	}
	// The one decoder of its own in these files is time.Time's (approvals'
	// "at"), which gives no offset either: find the first "at" it refuses.
	at := findLine(data, func(key string, tok json.Token, isKey bool, _ int) bool {
		if isKey || !strings.EqualFold(key, "at") {
			return false
		}
		b, _ := json.Marshal(tok)
		var t time.Time
		return t.UnmarshalJSON(b) != nil
	})
	return fmt.Errorf("%s%s: %w", path, at, err)
}

func jsonKind(k string) string {
	switch k {
	case "slice":
		return "a list"
	case "bool":
		return "true or false"
	case "int":
		return "a whole number"
	case "ptr", "struct":
		return "an object"
	}
	return "a " + k
}

// line is the 1-based line of byte offset off in data.
func line(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return 1 + bytes.Count(data[:off], []byte("\n"))
}

// lineOf returns ":N" for the line where the JSON string value s first
// appears in the file at path (however it is escaped there), or "" when it
// cannot be found.
func lineOf(path, s string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return findLine(data, func(_ string, tok json.Token, isKey bool, _ int) bool { return !isKey && tok == s })
}

func lineOfKey(path, key string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return lineOfKeyIn(data, key)
}

func lineOfKeyIn(data []byte, key string) string {
	return findLine(data, func(_ string, tok json.Token, isKey bool, _ int) bool { return isKey && tok == key })
}

// lineOfEntry returns ":N" for the line where the i-th element of the
// file's top-level list (approvals' "approved") begins, or "".
func lineOfEntry(path string, i int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	n := -1
	return findLine(data, func(_ string, _ json.Token, isKey bool, depth int) bool {
		if depth == 2 && !isKey {
			n++
		}
		return n == i
	})
}

// findLine walks the JSON in data and returns ":N", the line of the first
// token hit accepts, or "" when none does. key is the member a value belongs
// to ("" in an array); isKey says the token is a member's name; depth is how
// many objects and lists hold it. Searching the text instead misses what the
// file writes with escapes ("\u002f").
func findLine(data []byte, hit func(key string, tok json.Token, isKey bool, depth int) bool) string {
	type level struct {
		obj     bool
		wantKey bool
		key     string
	}
	var stack []level
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			continue
		}
		key, isKey := "", false
		if n := len(stack); n > 0 && stack[n-1].obj {
			top := &stack[n-1]
			if isKey = top.wantKey; isKey {
				top.key, top.wantKey = tok.(string), false
			} else {
				key, top.wantKey = top.key, true
			}
		}
		// A token never spans lines: the line where it ends is its line.
		if hit(key, tok, isKey, len(stack)) {
			return fmt.Sprintf(":%d", line(data, dec.InputOffset()))
		}
		if d, ok := tok.(json.Delim); ok {
			stack = append(stack, level{obj: d == '{', wantKey: d == '{'})
		}
	}
}

// fileSig is what tells that a policy file changed: cheap to stat (at most
// every policyCheckInterval), so `kyso origins allow` and admin edits apply
// without a restart.
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
