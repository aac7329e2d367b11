package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The committed THIRD_PARTY_NOTICES is what the generator writes now: a new
// or updated dependency without its notice fails here (run make notices).
func TestNoticesUpToDate(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	want, err := generate(root)
	if err != nil {
		t.Fatalf("a shipped component lacks a licence: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(root, "THIRD_PARTY_NOTICES"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("THIRD_PARTY_NOTICES is stale: run make notices and commit it")
	}
	mods, err := goModules(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mods {
		if !bytes.Contains(got, []byte("\n"+m.Path+" "+m.Version+" (")) {
			t.Errorf("no notice for %s %s", m.Path, m.Version)
		}
	}
	// The modules the programs are known to link, so that a broken go list
	// cannot make an empty file pass.
	for _, m := range []string{"github.com/miekg/pkcs11", "github.com/ncruces/zenity", "github.com/Microsoft/go-winio", "golang.org/x/sys"} {
		if !bytes.Contains(got, []byte("\n"+m+" ")) {
			t.Errorf("%s missing", m)
		}
	}
}

func TestNoLicenceFails(t *testing.T) {
	dir := t.TempDir()
	if _, err := licenceFiles(dir); err == nil {
		t.Fatal("a folder without a licence file passed")
	}
	for _, n := range []string{"LICENSE.md", "COPYING", "NOTICE", "README.md"} {
		os.WriteFile(filepath.Join(dir, n), []byte(n), 0o644)
	}
	files, err := licenceFiles(dir)
	if err != nil || len(files) != 3 || strings.HasSuffix(strings.Join(files, ","), "README.md") {
		t.Fatalf("licence files: %v %v", files, err)
	}
}

// A runtime npm dependency of the extension must bring its licence.
func TestNPMDependencyNeedsNotice(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "extension", "node_modules", "left-pad"), 0o755)
	os.WriteFile(filepath.Join(root, "extension", "package.json"), []byte(`{"dependencies":{"left-pad":"1.3.0"},"devDependencies":{"web-ext":"10"}}`), 0o644)
	deps, err := npmRuntimeDeps(root)
	if err != nil || len(deps) != 1 || deps[0] != "left-pad" {
		t.Fatalf("runtime deps: %v %v", deps, err)
	}
	if _, err := licenceFiles(filepath.Join(root, "extension", "node_modules", "left-pad")); err == nil {
		t.Fatal("an npm package without a licence passed")
	}
}
