package installer

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"kyso.vn/kyso/manifests"
)

// fakeBin makes an executable file to stand for kyso.
func fakeBin(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "bin", "kyso")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// tree lists every path under dir (relative), with symlink targets.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, p)
		if d.Type()&fs.ModeSymlink != 0 {
			tgt, _ := os.Readlink(p)
			rel += " -> " + tgt
		}
		out = append(out, rel)
		return nil
	})
	return out
}

func checkManifestFile(t *testing.T, path, bin string, firefox bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("manifest: %v", err)
	}
	var m manifests.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if m.Name != "vn.kyso.signer" || m.Path != bin || m.Type != "stdio" {
		t.Fatalf("%s: %+v", path, m)
	}
	if firefox && !slices.Equal(m.AllowedExtensions, []string{"signer@kyso.vn"}) ||
		!firefox && !slices.Equal(m.AllowedOrigins, []string{"chrome-extension://iglbldmcmaeofmnfneeicieiklknbhdi/"}) {
		t.Fatalf("%s: wrong allowed extensions: %+v", path, m)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Fatalf("%s: mode %v", path, st.Mode())
	}
}

func TestUserInstallUninstall(t *testing.T) {
	home := t.TempDir()
	bin := fakeBin(t, t.TempDir())
	o := Options{Home: home, Binary: bin, Version: "1.2.3"}
	before := tree(t, home)

	rec, warns, err := Install(o)
	if err != nil || len(warns) != 0 {
		t.Fatalf("install: %v %v", err, warns)
	}
	for _, d := range []string{".config/google-chrome", ".config/chromium", ".config/microsoft-edge", ".config/BraveSoftware/Brave-Browser"} {
		checkManifestFile(t, filepath.Join(home, d, "NativeMessagingHosts", "vn.kyso.signer.json"), bin, false)
	}
	checkManifestFile(t, filepath.Join(home, ".mozilla/native-messaging-hosts/vn.kyso.signer.json"), bin, true)

	unit, err := os.ReadFile(filepath.Join(home, ".config/systemd/user/kyso.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ExecStart=" + bin + " serve", "Restart=on-failure", "WantedBy=graphical-session.target"} {
		if !strings.Contains(string(unit), want) {
			t.Fatalf("unit lacks %q:\n%s", want, unit)
		}
	}
	link := filepath.Join(home, ".config/systemd/user/graphical-session.target.wants/kyso.service")
	if tgt, err := os.Readlink(link); err != nil || tgt != filepath.Join(home, ".config/systemd/user/kyso.service") {
		t.Fatalf("enable link: %q %v", tgt, err)
	}
	desktop, err := os.ReadFile(filepath.Join(home, ".config/autostart/kyso.desktop"))
	if err != nil || !strings.Contains(string(desktop), `systemctl --user start kyso.service || exec \\"\\$0\\" serve" "`+bin+`"`) {
		t.Fatalf("autostart entry: %v\n%s", err, desktop)
	}
	recPath := filepath.Join(home, ".local/share/kyso/install.json")
	got, err := ReadRecord(o)
	if err != nil || len(got.Items) != 8 || got.Version != "1.2.3" || got.Binary != bin {
		t.Fatalf("record %s: %+v %v", recPath, got, err)
	}
	if len(rec.Items) != 8 {
		t.Fatalf("items: %d", len(rec.Items))
	}

	// The user's own files in Kyso's config dir are never touched.
	cfg := filepath.Join(home, ".config", "kyso")
	os.MkdirAll(cfg, 0o700)
	os.WriteFile(filepath.Join(cfg, "config.json"), []byte(`{"port": 28418}`), 0o600)
	os.WriteFile(filepath.Join(cfg, "approvals.json"), []byte(`{"format":1,"approved":[]}`), 0o600)

	// Idempotent: the same files, the same record.
	first := tree(t, home)
	recBytes, _ := os.ReadFile(recPath)
	if _, _, err := Install(o); err != nil {
		t.Fatal(err)
	}
	if again := tree(t, home); !slices.Equal(first, again) {
		t.Fatalf("second install changed the tree:\n%v\n%v", first, again)
	}
	if b, _ := os.ReadFile(recPath); string(b) != string(recBytes) {
		t.Fatalf("second install changed the record:\n%s\n%s", recBytes, b)
	}

	if _, _, err := Uninstall(o); err != nil {
		t.Fatal(err)
	}
	left := tree(t, home)
	want := append(slices.Clone(before), ".config", ".config/kyso", ".config/kyso/approvals.json", ".config/kyso/config.json")
	slices.Sort(left)
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Fatalf("after uninstall:\n got %v\nwant %v", left, want)
	}
	if _, _, err := Uninstall(o); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("second uninstall: %v", err)
	}
}

func TestSystemInstallUnderRoot(t *testing.T) {
	root := t.TempDir()
	bin := "/usr/bin/kyso"
	o := Options{System: true, Root: root, Binary: bin, Runner: panicRunner{t}}
	if _, _, err := Install(o); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"/etc/opt/chrome/native-messaging-hosts", "/etc/chromium/native-messaging-hosts", "/etc/opt/edge/native-messaging-hosts"} {
		checkManifestFile(t, filepath.Join(root, d, "vn.kyso.signer.json"), bin, false)
	}
	for _, d := range []string{"/usr/lib/mozilla/native-messaging-hosts", "/usr/lib64/mozilla/native-messaging-hosts"} {
		checkManifestFile(t, filepath.Join(root, d, "vn.kyso.signer.json"), bin, true)
	}
	unit, err := os.ReadFile(filepath.Join(root, "/etc/systemd/user/kyso.service"))
	if err != nil || !strings.Contains(string(unit), "ExecStart=/usr/bin/kyso serve") {
		t.Fatalf("unit: %v\n%s", err, unit)
	}
	if tgt, err := os.Readlink(filepath.Join(root, "/etc/systemd/user/graphical-session.target.wants/kyso.service")); err != nil || tgt != "/etc/systemd/user/kyso.service" {
		t.Fatalf("global enable link: %q %v", tgt, err)
	}
	if _, err := os.Stat(filepath.Join(root, "/etc/xdg/autostart/kyso.desktop")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "/var/lib/kyso/install.json")); err != nil {
		t.Fatal(err)
	}
	// Every file written is under root: nothing escaped.
	if _, _, err := Install(o); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Uninstall(o); err != nil {
		t.Fatal(err)
	}
	if left := tree(t, root); !slices.Equal(left, []string{"."}) {
		t.Fatalf("left after uninstall: %v", left)
	}
}

// A changed plan (here: the unit moved to the package layout) drops what the
// earlier install wrote and no longer plans.
func TestReinstallDropsStale(t *testing.T) {
	root := t.TempDir()
	o := Options{System: true, Root: root, Binary: "/usr/bin/kyso"}
	if _, _, err := Install(o); err != nil {
		t.Fatal(err)
	}
	o.Package = true
	if _, _, err := Install(o); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "/etc/systemd/user/kyso.service")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stale unit left: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "/usr/lib/systemd/user/kyso.service")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Uninstall(o); err != nil {
		t.Fatal(err)
	}
	if left := tree(t, root); !slices.Equal(left, []string{"."}) {
		t.Fatalf("left after uninstall: %v", left)
	}
}

type panicRunner struct{ t *testing.T }

func (r panicRunner) Run(name string, args ...string) error {
	r.t.Fatalf("ran %s %v under --root", name, args)
	return nil
}

// recRunner records the service-manager commands.
type recRunner struct{ cmds []string }

func (r *recRunner) Start(name string, args ...string) error  { return r.Run(name, args...) }
func (r panicRunner) Start(name string, args ...string) error { return r.Run(name, args...) }

func (r *recRunner) Run(name string, args ...string) error {
	r.cmds = append(r.cmds, name+" "+strings.Join(args, " "))
	return nil
}

func TestUserInstallRunsSystemctl(t *testing.T) {
	home := t.TempDir()
	r := &recRunner{}
	o := Options{Home: home, Binary: fakeBin(t, t.TempDir()), Runner: r}
	if _, _, err := Install(o); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Uninstall(o); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"systemctl --user daemon-reload",
		"systemctl --user import-environment DISPLAY WAYLAND_DISPLAY XAUTHORITY",
		"systemctl --user restart kyso.service",
		"systemctl --user stop kyso.service",
		"systemctl --user daemon-reload",
	}
	if !slices.Equal(r.cmds, want) {
		t.Fatalf("commands:\n%q\nwant\n%q", r.cmds, want)
	}
}

func TestFileRegistry(t *testing.T) {
	root := t.TempDir()
	o := Options{Root: root}
	it := Item{Kind: KindRegistry, Hive: "HKCU", Key: `Software\Google\Chrome\NativeMessagingHosts\vn.kyso.signer`, Value: `C:\x.json`}
	if _, err := writeItem(o, it); err != nil {
		t.Fatal(err)
	}
	if v, err := RegistryValue(o, "HKCU", it.Key, ""); err != nil || v != `C:\x.json` {
		t.Fatalf("%q %v", v, err)
	}
	if err := removeItem(o, it); err != nil {
		t.Fatal(err)
	}
	if left := tree(t, root); !slices.Equal(left, []string{"."}) {
		t.Fatalf("left: %v", left)
	}
}
