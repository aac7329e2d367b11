package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"kyso.vn/kyso/internal/atomicfile"
)

// OriginEntry is one line of `kyso origins list`.
type OriginEntry struct {
	Origin  string // an origin or pattern as written
	Source  string // "system policy", "user config" or "approved"
	Blocked bool
	Ignored bool // a user entry ignored because the system policy set userApproval false
}

// ListOrigins lists the allowed and blocked entries of every file with their
// source.
func ListOrigins(p Paths) ([]OriginEntry, error) {
	pol, err := loadPolicy(p)
	if err != nil {
		return nil, err
	}
	var out []OriginEntry
	for _, e := range pol.blocked {
		out = append(out, OriginEntry{Origin: e.raw, Source: string(e.from), Blocked: true})
	}
	for _, e := range pol.allowed {
		out = append(out, OriginEntry{Origin: e.raw, Source: string(e.from)})
	}
	for _, e := range pol.ignored {
		out = append(out, OriginEntry{Origin: e.raw, Source: string(e.from), Ignored: true})
	}
	return out, nil
}

// ApproveOrigin saves origin as "always allowed" in the approvals file, as
// the dialog's "Always allow" does. It refuses what the policy would not let
// the user approve anyway (blocked, not of an allowed scheme, user approval
// locked off by the admin), so that the command never pretends.
func ApproveOrigin(p Paths, rawOrigin string) (string, error) {
	pol, err := loadPolicy(p)
	if err != nil {
		return "", err
	}
	o, err := parseOrigin(rawOrigin)
	if err != nil {
		return "", err
	}
	if pol.userLocked {
		return "", errors.New("the system policy turns user approval off: only the administrator's list counts")
	}
	if d := pol.decide(o); d == denied {
		return "", fmt.Errorf("%s is blocked or not of an allowed scheme by the policy", o)
	}
	return o.String(), saveApproval(p.Approvals, o.String(), time.Now())
}

// RevokeOrigin removes origin from the approvals file. It reports false when
// the origin was not approved there (it may still be listed in a config).
func RevokeOrigin(p Paths, rawOrigin string) (bool, error) {
	var f approvalsFile
	if err := readJSONFile(p.Approvals, &f); err != nil {
		return false, err
	}
	canon := rawOrigin
	if o, err := parseOrigin(rawOrigin); err == nil {
		canon = o.String()
	}
	kept := f.Approved[:0]
	found := false
	for _, a := range f.Approved {
		if a.Origin == canon || a.Origin == rawOrigin {
			found = true
			continue
		}
		kept = append(kept, a)
	}
	if !found {
		return false, nil
	}
	f.Approved = kept
	return true, writeApprovals(p.Approvals, f)
}

func saveApproval(path, origin string, now time.Time) error {
	var f approvalsFile
	if err := readJSONFile(path, &f); err != nil {
		return err
	}
	for _, a := range f.Approved {
		if a.Origin == origin {
			return nil
		}
	}
	f.Approved = append(f.Approved, approval{Origin: origin, At: now.UTC().Truncate(time.Second)})
	sort.Slice(f.Approved, func(i, j int) bool { return f.Approved[i].Origin < f.Approved[j].Origin })
	return writeApprovals(path, f)
}

func writeApprovals(path string, f approvalsFile) error {
	f.Format = approvalsFileFormat
	if f.Approved == nil {
		f.Approved = []approval{}
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(data, '\n'))
}

// writeFileAtomic replaces path with data so that a reader sees the old or
// the new file, never a torn one: a temp file in the same directory, fsync,
// rename, then fsync of the directory. The file is 0600 and its directory
// 0700: the list of sites a person signs for is theirs alone.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
