package pkcs11

import (
	"os"
	"path/filepath"
	"reflect"
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
	st := discover([]string{tk.Module, link, "/nonexistent/x.so"}, false, nil, false)
	if len(st) != 2 || !st[0].Loaded || st[0].Path != tk.Module || st[1].Loaded || st[1].Err == nil {
		t.Errorf("discover = %+v", st)
	}
	for _, n := range vendorModules {
		if n == "" {
			t.Error("empty vendor module name")
		}
	}
}
