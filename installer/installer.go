// Package installer registers Kyso with the system: native-messaging host
// manifests for every browser family (present or not, so a browser installed
// later works too) and the agent's start at login. It writes a small install
// record listing exactly what it wrote, so that Uninstall removes exactly
// that and never the user's config.json or approvals.
//
// The per-OS parts (where browsers look, how the agent starts) live in
// plan_linux.go, plan_darwin.go and plan_windows.go. Everything is a planned
// Item first, then written; commands that talk to a service manager
// (systemctl, launchctl) go through a Runner, which is nil under Root, so
// tests only ever write files.
package installer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"kyso.vn/kyso/manifests"

	"kyso.vn/kyso/internal/atomicfile"
	"kyso.vn/kyso/internal/extid"
)

// Item kinds.
const (
	KindFile     = "file"
	KindSymlink  = "symlink"
	KindRegistry = "registry" // Windows: a registry value
)

// Purposes of items, for status and doctor.
const (
	PurposeManifest  = "manifest"
	PurposeAutostart = "autostart"
	PurposeRegistry  = "manifest-registry"
)

// Browser families.
const (
	Chrome   = "chrome"
	Chromium = "chromium"
	Edge     = "edge"
	Brave    = "brave"
	Firefox  = "firefox"
)

// Browsers lists the families Kyso registers with.
var Browsers = []string{Chrome, Chromium, Edge, Brave, Firefox}

// Item is one thing Install writes. Paths are absolute as the running system
// sees them (without Root).
type Item struct {
	Kind     string      `json:"kind"`
	Purpose  string      `json:"purpose"`
	Browsers []string    `json:"browsers,omitempty"`
	Path     string      `json:"path,omitempty"`   // file or symlink
	Target   string      `json:"target,omitempty"` // symlink target
	Hive     string      `json:"hive,omitempty"`   // registry: HKCU or HKLM
	Key      string      `json:"key,omitempty"`    // registry key below the hive
	Name     string      `json:"name,omitempty"`   // registry value name, "" = default
	Value    string      `json:"value,omitempty"`  // registry value (a string)
	Content  []byte      `json:"-"`
	Mode     fs.FileMode `json:"-"`
}

func (it Item) id() string {
	if it.Kind == KindRegistry {
		return it.Kind + ":" + it.Hive + `\` + it.Key + `\` + it.Name
	}
	return it.Kind + ":" + it.Path
}

// Runner runs service-manager commands (systemctl, launchctl). Install and
// Uninstall skip them when Options.Runner is nil.
type Runner interface {
	Run(name string, args ...string) error   // runs and waits
	Start(name string, args ...string) error // starts and leaves it running
}

// Options says what to install and where.
type Options struct {
	System  bool   // for all users (root/admin); else for the current user
	Root    string // prefix for every path written (tests, package staging); "" = /
	Home    string // the user's home (user installs); default os.UserHomeDir
	Binary  string // absolute path of kyso as browsers and the login start run it
	Package bool   // Linux: a distribution package's layout (unit in /usr/lib/systemd/user)
	Runner  Runner // nil: do not call systemctl/launchctl
	Version string // recorded in the install record
	// ExtensionIDs are the system policy's extensionIds: Chromium-family
	// ids the host manifests allow beside Kyso's own (engine.SystemExtensionIDs).
	ExtensionIDs []string
	// ManifestsOnly: kyso install --manifests-only (RefreshManifests).
	ManifestsOnly bool
	// IDs replaces Kyso's extension identity (internal/extid) when set: the
	// package builders' tests stage packages as if store ids were published.
	IDs *extid.IDs
}

// Identity is the extension identity the install writes: IDs, or Kyso's.
func (o Options) Identity() extid.IDs {
	if o.IDs != nil {
		return *o.IDs
	}
	return extid.Kyso
}

// ChromiumIDs are the ids the Chromium-family host manifests allow: Kyso's
// own (development and published store ids), then the policy's.
func (o Options) ChromiumIDs() []string {
	return extid.Merge(o.Identity().Chromium(), o.ExtensionIDs)
}

func (o Options) home() (string, error) {
	if o.Home != "" {
		return o.Home, nil
	}
	h, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("installer: no home directory: %w", err)
	}
	return h, nil
}

// path is system for a --system install, else the path under the user's
// home made of elem.
func (o Options) path(system string, elem ...string) (string, error) {
	if o.System {
		return system, nil
	}
	h, err := o.home()
	if err != nil {
		return "", err
	}
	return filepath.Join(append([]string{h}, elem...)...), nil
}

// Real maps a path as the system sees it to where it is written (under Root).
func (o Options) Real(p string) string {
	if o.Root == "" {
		return p
	}
	return filepath.Join(o.Root, strings.TrimPrefix(p, filepath.VolumeName(p)))
}

// Record is the install record: what Install wrote, for Uninstall.
type Record struct {
	Version string   `json:"version"`
	System  bool     `json:"system"`
	Binary  string   `json:"binary"`
	Items   []Item   `json:"items"`
	Dirs    []string `json:"dirs"` // directories Install created (removed when empty)
}

// Plan returns the items Install would write.
func Plan(o Options) ([]Item, error) {
	if o.Binary == "" || !filepath.IsAbs(o.Binary) {
		return nil, fmt.Errorf("installer: the kyso binary path %q is not absolute", o.Binary)
	}
	return plan(o)
}

// manifestItems renders the manifests into the given per-browser dirs. Two
// browsers sharing a directory get one file.
func manifestItems(o Options, dirs map[string][]string) ([]Item, error) {
	chromium, err := manifests.Chromium(o.Binary, o.ChromiumIDs())
	if err != nil {
		return nil, err
	}
	firefox, err := manifests.Firefox(o.Binary, o.Identity().Firefox.ID)
	if err != nil {
		return nil, err
	}
	byPath := map[string]*Item{}
	var order []string
	for _, b := range Browsers {
		content := chromium
		if b == Firefox {
			content = firefox
		}
		for _, d := range dirs[b] {
			p := filepath.Join(d, manifests.HostName()+".json")
			if it, ok := byPath[p]; ok {
				it.Browsers = append(it.Browsers, b)
				continue
			}
			byPath[p] = &Item{Kind: KindFile, Purpose: PurposeManifest, Browsers: []string{b},
				Path: p, Content: content, Mode: 0o644}
			order = append(order, p)
		}
	}
	out := make([]Item, 0, len(order))
	for _, p := range order {
		out = append(out, *byPath[p])
	}
	return out, nil
}

// Install writes every planned item, records them, drops what an earlier
// install wrote and this one no longer plans, then starts the agent through
// the Runner. It is idempotent.
func Install(o Options) (Record, []error, error) {
	items, err := Plan(o)
	if err != nil {
		return Record{}, nil, err
	}
	if err := checkInstall(o); err != nil {
		return Record{}, nil, err
	}
	old, _ := ReadRecord(o)
	rec := Record{Version: o.Version, System: o.System, Binary: o.Binary, Items: items, Dirs: old.Dirs}
	for _, it := range items {
		created, err := writeItem(o, it)
		if err != nil {
			return rec, nil, err
		}
		rec.Dirs = appendNew(rec.Dirs, created...)
	}
	keep := map[string]bool{}
	for _, it := range items {
		keep[it.id()] = true
	}
	for _, it := range old.Items {
		if !keep[it.id()] {
			if err := removeItem(o, it); err != nil {
				return rec, nil, err
			}
		}
	}
	// The record's own directory is recorded too, so that uninstall leaves
	// nothing behind.
	recPath, err := recordPath(o)
	if err != nil {
		return rec, nil, err
	}
	created, err := mkdirAll(o, filepath.Dir(recPath))
	if err != nil {
		return rec, nil, err
	}
	rec.Dirs = appendNew(rec.Dirs, created...)
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return rec, nil, err
	}
	if err := writeFileAtomic(o.Real(recPath), append(b, '\n'), 0o644); err != nil {
		return rec, nil, err
	}
	var warns []error
	if o.Runner != nil && o.Root == "" {
		warns = afterInstall(o, o.Runner)
	}
	return rec, warns, nil
}

// RefreshManifests rewrites the native-messaging manifests of o's scope
// that exist already — written by kyso install or by a package — with the
// ids of now (Kyso's and the system policy's extensionIds), and touches
// nothing else: no autostart, no install record, no file that was not
// there. The packages run it after installing (kyso install --system
// --manifests-only), and an admin after changing extensionIds. It returns
// the manifests it rewrote.
func RefreshManifests(o Options) ([]Item, error) {
	items, err := Plan(o)
	if err != nil {
		return nil, err
	}
	var done []Item
	for _, it := range items {
		if it.Kind != KindFile || it.Purpose != PurposeManifest {
			continue
		}
		if _, err := os.Stat(o.Real(it.Path)); err != nil {
			continue
		}
		if err := writeFileAtomic(o.Real(it.Path), it.Content, it.Mode); err != nil {
			return done, err
		}
		done = append(done, it)
	}
	return done, nil
}

// Uninstall stops the agent (through the Runner), removes exactly what the
// install record lists, the directories Install created when empty, and the
// record. With no record it does nothing and says so.
func Uninstall(o Options) (Record, []error, error) {
	rec, err := ReadRecord(o)
	if err != nil {
		return rec, nil, err
	}
	var warns []error
	if o.Runner != nil && o.Root == "" {
		warns = beforeUninstall(o, o.Runner)
	}
	for _, it := range rec.Items {
		if err := removeItem(o, it); err != nil {
			return rec, warns, err
		}
	}
	recPath, err := recordPath(o)
	if err != nil {
		return rec, warns, err
	}
	if err := os.Remove(o.Real(recPath)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return rec, warns, fmt.Errorf("installer: remove %s: %w", recPath, err)
	}
	// Deepest first; a directory someone else put files in stays.
	dirs := slices.Clone(rec.Dirs)
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	for _, d := range dirs {
		_ = os.Remove(o.Real(d)) // fails when not empty: on purpose
	}
	if o.Runner != nil && o.Root == "" {
		warns = append(warns, afterUninstall(o, o.Runner)...)
	}
	return rec, warns, nil
}

// ErrNotInstalled: no install record for this scope.
var ErrNotInstalled = errors.New("kyso is not installed for this scope (no install record)")

// ReadRecord reads the install record of o's scope.
func ReadRecord(o Options) (Record, error) {
	p, err := recordPath(o)
	if err != nil {
		return Record{}, err
	}
	b, err := os.ReadFile(o.Real(p))
	if errors.Is(err, fs.ErrNotExist) {
		return Record{}, ErrNotInstalled
	}
	if err != nil {
		return Record{}, fmt.Errorf("installer: read %s: %w", p, err)
	}
	var rec Record
	if err := json.Unmarshal(b, &rec); err != nil {
		return Record{}, fmt.Errorf("installer: %s is damaged: %w", p, err)
	}
	return rec, nil
}

func writeItem(o Options, it Item) ([]string, error) {
	switch it.Kind {
	case KindFile:
		created, err := mkdirAll(o, filepath.Dir(it.Path))
		if err != nil {
			return nil, err
		}
		return created, writeFileAtomic(o.Real(it.Path), it.Content, it.Mode)
	case KindSymlink:
		created, err := mkdirAll(o, filepath.Dir(it.Path))
		if err != nil {
			return nil, err
		}
		real := o.Real(it.Path)
		if cur, err := os.Readlink(real); err == nil && cur == it.Target {
			return created, nil
		}
		_ = os.Remove(real)
		if err := os.Symlink(it.Target, real); err != nil {
			return created, fmt.Errorf("installer: link %s: %w", it.Path, err)
		}
		return created, nil
	case KindRegistry:
		return nil, registryFor(o).set(it)
	}
	return nil, fmt.Errorf("installer: unknown item kind %q", it.Kind)
}

func removeItem(o Options, it Item) error {
	switch it.Kind {
	case KindFile, KindSymlink:
		if err := os.Remove(o.Real(it.Path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("installer: remove %s: %w", it.Path, err)
		}
		return nil
	case KindRegistry:
		return registryFor(o).remove(it)
	}
	return fmt.Errorf("installer: unknown item kind %q", it.Kind)
}

// mkdirAll creates dir (as the system sees it) under Root and returns the
// directories it created, outermost first.
func mkdirAll(o Options, dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(o.Real(d)); err == nil {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(o.Real(dir), 0o755); err != nil {
		return nil, fmt.Errorf("installer: create %s: %w", dir, err)
	}
	slices.Reverse(missing)
	return missing, nil
}

func writeFileAtomic(path string, data []byte, mode fs.FileMode) error {
	if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, data) {
		return os.Chmod(path, mode)
	}
	if err := atomicfile.Write(path, data, mode); err != nil {
		return fmt.Errorf("installer: write %s: %w", path, err)
	}
	return nil
}

func appendNew(list []string, more ...string) []string {
	for _, m := range more {
		if !slices.Contains(list, m) {
			list = append(list, m)
		}
	}
	return list
}
