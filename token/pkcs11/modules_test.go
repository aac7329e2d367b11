package pkcs11

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"kyso.vn/kyso/internal/testenv"
)

func TestParseP11KitDir(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"opensc.module":  "# comment\nmodule: opensc-pkcs11.so\n",
		"softhsm.module": "module: /usr/lib/softhsm/libsofthsm2.so\npriority: 3\n",
		"trust.module":   "module: p11-kit-trust.so\ntrust-policy: yes\n",
		"proxy.module":   "module:p11-kit-proxy.so\n",
		"empty.module":   "# nothing\n",
		"notes.txt":      "module: ignored.so\n",
	}
	for n, c := range files {
		os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644)
	}
	got := parseP11KitDir(dir, "/usr/lib/x86_64-linux-gnu/pkcs11")
	want := []string{"/usr/lib/x86_64-linux-gnu/pkcs11/opensc-pkcs11.so", "/usr/lib/softhsm/libsofthsm2.so"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseP11KitDir = %v, want %v", got, want)
	}
}

// The same module under two names (a symlink, as Debian's multiarch
// paths are) is loaded and listed once, under its first source.
func TestDiscoverDedupes(t *testing.T) {
	tk := testenv.Shared(t)
	link := filepath.Join(t.TempDir(), "libalias.so")
	if err := os.Symlink(tk.Module, link); err != nil {
		t.Fatal(err)
	}
	st := discover(nil, []string{tk.Module, link, "/nonexistent/x.so"}, false, nil, false)
	if len(st) != 2 || !st[0].Loaded || st[0].Path != tk.Module || st[1].Loaded || st[1].Err == nil {
		t.Errorf("discover = %+v", st)
	}
	for _, n := range vendorModules {
		if n == "" {
			t.Error("empty vendor module name")
		}
	}
}

// docs/tokens.md has one row per vendor module name, in the code's order:
// the doc says what was verified of each, the code is what Kyso looks for.
func TestVendorModulesDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "docs", "tokens.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "\n### Vendor module names\n")
	if !ok {
		t.Fatal(`docs/tokens.md: no "### Vendor module names" section`)
	}
	var documented []string
	for _, line := range strings.Split(table, "\n") {
		if strings.HasPrefix(line, "#") {
			break
		}
		cells := strings.Split(line, "|")
		if len(cells) < 3 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		documented = append(documented, strings.Trim(strings.TrimSpace(cells[1]), "`"))
	}
	if !reflect.DeepEqual(documented, vendorModules) {
		t.Errorf("docs/tokens.md's table lists\n%q\nthe code (vendorModules)\n%q", documented, vendorModules)
	}
}
