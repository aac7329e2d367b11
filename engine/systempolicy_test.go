package engine

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"kyso.vn/kyso/internal/filetrust"
)

// A system policy another account could have written is not used: every
// origin is denied, and the error names the file or folder at fault.
// (The whole rule, every OS, is internal/filetrust's test; this is the
// engine's side. security/TestPlantedSystemPolicy runs the shipped binary.)
func TestUntrustedSystemPolicy(t *testing.T) {
	const planted = `{"allowedOrigins": ["https://evil.example"], "modules": ["/tmp/evil.so"]}`
	cases := []struct {
		name  string
		plant func(t *testing.T, p Paths)
		want  string
	}{
		{"world-writable file", func(t *testing.T, p Paths) { os.Chmod(p.System, 0o666) }, "writable by other users"},
		{"folder writable by others", func(t *testing.T, p Paths) { os.Chmod(filepath.Dir(p.System), 0o777) }, "writable by other users"},
		{"link to a file in a folder writable by others", func(t *testing.T, p Paths) {
			open := filepath.Join(filepath.Dir(filepath.Dir(p.System)), "open")
			os.Mkdir(open, 0o777)
			os.Chmod(open, 0o777)
			os.Rename(p.System, filepath.Join(open, "p.json"))
			os.Symlink(filepath.Join(open, "p.json"), p.System)
		}, "writable by other users"},
		{"dangling link", func(t *testing.T, p Paths) {
			os.Remove(p.System)
			os.Symlink(filepath.Join(filepath.Dir(p.System), "nowhere.json"), p.System)
		}, "not used"},
		{"owned by another user", func(t *testing.T, p Paths) {
			if os.Getuid() != 0 {
				t.Skip("needs root to chown")
			}
			os.Chown(p.System, 65534, 65534)
		}, "belongs to uid 65534"},
		{"folder owned by another user", func(t *testing.T, p Paths) {
			if os.Getuid() != 0 {
				t.Skip("needs root to chown")
			}
			os.Chown(filepath.Dir(p.System), 65534, 65534)
		}, "belongs to uid 65534"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, newFakeProvider(t), allowPortal)
			writeFile(t, h.paths.System, planted)
			os.Chmod(filepath.Dir(h.paths.System), 0o755)
			os.Chmod(h.paths.System, 0o644)
			c.plant(t, h.paths)
			_, err := LoadSettings(h.paths)
			var up *UntrustedPolicy
			if !errors.As(err, &up) || up.Path != h.paths.System || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("LoadSettings: %v, want the policy refused (%s)", err, c.want)
			}
			var fe *filetrust.Error
			if c.name != "dangling link" && !errors.As(err, &fe) {
				t.Fatalf("no *filetrust.Error in %v", err)
			}
			// Neither the planted origin nor the user's own: every origin
			// is denied, and the page learns nothing about the file.
			for _, o := range []string{"https://evil.example", portal, portal, portal} {
				r := h.call(o, "version", nil)
				if code(r) != "ORIGIN_DENIED" || strings.Contains(r.Error.Message, h.paths.System) {
					t.Fatalf("%s with a planted policy: %s %v", o, code(r), r.Error)
				}
				if h.e.MayAsk(o) == nil {
					t.Fatalf("MayAsk(%s) allowed with a planted policy", o)
				}
			}
			// Looked at again on every request, logged once.
			logMu.Lock()
			n := strings.Count(h.logs.String(), "policy broken")
			logMu.Unlock()
			if n != 1 {
				t.Fatalf("the refused policy logged %d times, want once", n)
			}
		})
	}
	// Fixed by a chmod alone (the file is not edited): the next request
	// sees it.
	h := newHarness(t, newFakeProvider(t), allowPortal)
	writeFile(t, h.paths.System, `{"blockedOrigins": ["https://other.example"]}`)
	os.Chmod(filepath.Dir(h.paths.System), 0o755)
	os.Chmod(h.paths.System, 0o666)
	if r := h.call(portal, "version", nil); code(r) != "ORIGIN_DENIED" {
		t.Fatalf("world-writable policy: %s", code(r))
	}
	os.Chmod(h.paths.System, 0o644)
	if r := h.call(portal, "version", nil); code(r) != "OK" {
		t.Fatalf("after chmod 0644: %s %v", code(r), r.Error)
	}

	// A missing system policy is the defaults, and a trusted one counts.
	h = newHarness(t, newFakeProvider(t), allowPortal)
	if r := h.call(portal, "version", nil); code(r) != "OK" {
		t.Fatalf("no system policy: %v", r.Error)
	}
	writeFile(t, h.paths.System, `{"blockedOrigins": ["https://dichvucong.gov.vn"]}`)
	os.Chmod(filepath.Dir(h.paths.System), 0o755)
	if r := h.call(portal, "version", nil); code(r) != "ORIGIN_DENIED" {
		t.Fatalf("a trusted system policy that blocks the portal: %s", code(r))
	}
}

// Keys only the system policy may set are dropped from the user's config,
// and reported; the system policy's own are kept.
func TestSystemOnlyKeys(t *testing.T) {
	p := testPaths(t)
	writeFile(t, p.User, "{\"allowedOrigins\": [\"https://mine.example\"],\n  \"timestampUrl\": \"http://tsa.attacker.example\"}")
	s, err := LoadSettings(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []IgnoredKey{{Key: "timestampUrl", File: p.User, Line: 2}}
	if s.TimestampURL != "" || !slices.Equal(s.IgnoredUserKeys, want) || len(s.AllowedOrigins) != 1 {
		t.Fatalf("user's timestampUrl: %+v", s)
	}
	writeFile(t, p.System, `{"timestampUrl": "https://tsa.ca.gov.vn/tsa"}`)
	s, err = LoadSettings(p)
	if err != nil {
		t.Fatal(err)
	}
	if s.TimestampURL != "https://tsa.ca.gov.vn/tsa" || !slices.Equal(s.IgnoredUserKeys, want) {
		t.Fatalf("system's timestampUrl: %+v", s)
	}
	// Every system-only key the file sets, each with its line, in one
	// list the log and kyso doctor read.
	writeFile(t, p.User, "{\n  \"extensionIds\": [\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"],\n  \"timestampUrl\": \"http://tsa.attacker.example\"\n}")
	s, err = LoadSettings(p)
	if err != nil {
		t.Fatal(err)
	}
	want = []IgnoredKey{{Key: "timestampUrl", File: p.User, Line: 3}, {Key: "extensionIds", File: p.User, Line: 2}}
	if !slices.Equal(s.IgnoredUserKeys, want) || slices.Contains(s.ExtensionIDs, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb") {
		t.Fatalf("two system-only keys: %+v", s)
	}
	if got := s.IgnoredUserKeys[1].String(); got != p.User+":2: extensionIds is read from the system policy only; ignored here" {
		t.Fatalf("log text %q", got)
	}
	// The engine logs it.
	h := newHarness(t, newFakeProvider(t), `{"allowedOrigins": ["https://dichvucong.gov.vn"], "timestampUrl": "https://x.example"}`)
	h.call(portal, "version", nil)
	logMu.Lock()
	got := h.logs.String()
	logMu.Unlock()
	if !strings.Contains(got, `"key":"timestampUrl"`) || !strings.Contains(got, `"line":1`) || !strings.Contains(got, "only the system policy may set") {
		t.Fatalf("no warning in the log:\n%s", got)
	}
}

func TestTimestampURL(t *testing.T) {
	for _, ok := range []string{"http://timestamp.digicert.com", "https://tsa.ca.gov.vn/tsa", "http://tsa.example:8080/x?td=sha256",
		"http://[::1]:3161/", "http://127.0.0.1/tsa"} {
		if err := checkTimestampURL(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "tsa.example", "ftp://tsa.example", "HTTP://tsa.example", "https://", "https:///x",
		"https://user:pw@tsa.example", "https://tsa.example/#x", "https://tsa.example/a b", "https://tsa.example:0/",
		"https://tsa.example:99999/", "http://tsa.example\n", "mailto:a@b.c", "https:tsa.example", "//tsa.example",
		"https://" + strings.Repeat("a", 2050)} {
		if err := checkTimestampURL(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// In the file, a bad one is a broken policy with file and line.
	p := testPaths(t)
	writeFile(t, p.System, "{\n  \"timestampUrl\": \"ftp://tsa.example\"\n}")
	if _, err := LoadSettings(p); err == nil || !strings.Contains(err.Error(), "policy.json:2: timestampUrl") {
		t.Fatalf("bad timestampUrl: %v", err)
	}
}

// Group Policy values map onto the keys of policy.json, are checked like
// them, and win over the file key by key (blockedOrigins: both count).
func TestGroupPolicy(t *testing.T) {
	vals := []regValue{
		{name: "AllowedOrigins", typ: regMultiSZ, strs: []string{"https://*.gov.vn", "https://edoc.example.vn"}},
		{name: "blockedOrigins", typ: regMultiSZ, strs: []string{"https://phishing.example"}},
		{name: "userApproval", typ: regDWORD, num: 0},
		{name: "allowLocalhost", typ: regDWORD, num: 1},
		{name: "port", typ: regDWORD, num: 28500},
		{name: "modules", typ: regMultiSZ, strs: []string{"/opt/vendor/libp11.so"}},
		{name: "timestampUrl", typ: regSZ, str: "http://tsa.example"},
		{name: "", typ: regSZ, str: "the key's default value"},
	}
	gp, err := groupPolicySettings(vals)
	if err != nil {
		t.Fatal(err)
	}
	file := fileSettings{}
	if err := unmarshalStrict([]byte(`{"allowedOrigins": ["https://file.example"], "blockedOrigins": ["https://ads.example"],
		"userApproval": true, "pinCacheSeconds": 60}`), &file); err != nil {
		t.Fatal(err)
	}
	overlay(&file, &gp)
	var allowed, blocked []string
	for _, a := range file.AllowedOrigins {
		allowed = append(allowed, a.raw)
	}
	for _, b := range file.BlockedOrigins {
		blocked = append(blocked, b.raw)
	}
	if strings.Join(allowed, " ") != "https://*.gov.vn https://edoc.example.vn" ||
		strings.Join(blocked, " ") != "https://ads.example https://phishing.example" ||
		*file.UserApproval || !*file.AllowLocalhost || *file.Port != 28500 || *file.PinCacheSeconds != 60 ||
		len(file.Modules) != 1 || string(*file.TimestampURL) != "http://tsa.example" {
		t.Fatalf("merged: allowed %v blocked %v %+v", allowed, blocked, file)
	}

	for _, c := range []struct {
		v    regValue
		want string
	}{
		{regValue{name: "allowOrigins", typ: regMultiSZ}, `HKLM\SOFTWARE\Policies\Kyso\allowOrigins: unknown value`},
		{regValue{name: "allowedOrigins", typ: regSZ, str: "https://a.gov.vn"}, `allowedOrigins: must be REG_MULTI_SZ, not REG_SZ`},
		{regValue{name: "userApproval", typ: regSZ, str: "0"}, `userApproval: must be REG_DWORD, not REG_SZ`},
		{regValue{name: "userApproval", typ: regDWORD, num: 2}, `userApproval: must be 1 (true) or 0 (false), not 2`},
		{regValue{name: "port", typ: regQWORD, num: 1}, `port: must be REG_DWORD, not REG_QWORD`},
		{regValue{name: "port", typ: regDWORD, num: 70000}, `port: port 70000`},
		{regValue{name: "allowedOrigins", typ: regMultiSZ, strs: []string{"https://*.GOV.vn"}}, `allowedOrigins: origin pattern "https://*.GOV.vn"`},
		{regValue{name: "modules", typ: regMultiSZ, strs: []string{"p11.dll"}}, `modules: module "p11.dll": must be an absolute path`},
		{regValue{name: "timestampUrl", typ: regSZ, str: "ftp://x"}, `timestampUrl: timestampUrl "ftp://x"`},
		{regValue{name: "timestampUrl", typ: 3}, `must be REG_SZ, not registry type 3`},
	} {
		if _, err := groupPolicySettings([]regValue{c.v}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.v, err, c.want)
		}
	}
}

// Every key of policy.json has its Group Policy type, so that the mapping
// in docs/policy.md stays whole when a key is added.
func TestGroupPolicyCoversEveryKey(t *testing.T) {
	var typ []string
	for f := range reflect.TypeFor[fileSettings]().Fields() {
		typ = append(typ, strings.Split(f.Tag.Get("json"), ",")[0])
	}
	for _, k := range typ {
		if _, ok := gpKeys[k]; !ok {
			t.Errorf("policy key %q has no Group Policy type in gpKeys", k)
		}
	}
	if len(gpKeys) != len(typ) {
		t.Errorf("gpKeys has %d keys, policy.json %d", len(gpKeys), len(typ))
	}
}
