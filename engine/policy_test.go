package engine

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestParseOrigin(t *testing.T) {
	ok := map[string]string{
		"https://a.gov.vn":          "https://a.gov.vn",
		"https://a.gov.vn:443":      "https://a.gov.vn",
		"https://A.Gov.VN":          "https://a.gov.vn",
		"https://a.gov.vn:8443":     "https://a.gov.vn:8443",
		"http://localhost:80":       "http://localhost",
		"http://127.0.0.1:3000":     "http://127.0.0.1:3000",
		"http://[::1]:3000":         "http://[::1]:3000",
		"https://xn--tnh-2na.vn":    "https://xn--tnh-2na.vn",
		"https://[0:0:0:0:0:0:0:1]": "https://[::1]",
	}
	for in, want := range ok {
		o, err := parseOrigin(in)
		if err != nil || o.String() != want {
			t.Errorf("parseOrigin(%q) = %q, %v; want %q", in, o, err, want)
		}
	}
	for _, in := range []string{"", "null", "file:///etc/passwd", "chrome-extension://abc", "moz-extension://x",
		"ftp://a.gov.vn", "https://a.gov.vn/", "https://a.gov.vn/x", "https://user@a.gov.vn", "https://a.gov.vn?x",
		"https://a.gov.vn#x", "https://a.gov.vn:", "https://a.gov.vn:0", "https://a.gov.vn:65536", "https://a.gov.vn:0443",
		"https://tỉnh.vn", "https://a..vn", "https://-a.vn", "https://a_b.vn", "https://", "https:a.gov.vn",
		"javascript:alert(1)", "data:text/html,x", "https://[fe80::1%25eth0]", " https://a.gov.vn", "https://a.gov.vn\n"} {
		if o, err := parseOrigin(in); err == nil {
			t.Errorf("parseOrigin(%q) accepted as %q", in, o)
		}
	}
}

func TestPatternMatch(t *testing.T) {
	cases := []struct {
		pattern string
		origin  string
		match   bool
	}{
		{"https://*.gov.vn", "https://dichvucong.gov.vn", true},
		{"https://*.gov.vn", "https://a.b.gov.vn", true},
		{"https://*.gov.vn", "https://dichvucong.gov.vn:443", true},
		{"https://*.gov.vn", "https://gov.vn", false},
		{"https://*.gov.vn", "https://evilgov.vn", false},
		{"https://*.gov.vn", "https://x.gov.vn.evil.com", false},
		{"https://*.gov.vn", "https://gov.vn.evil.com", false},
		{"https://*.gov.vn", "https://x.gov.vn:8443", false},
		{"https://*.gov.vn", "http://x.gov.vn", false},
		{"https://*.gov.vn", "https://x.gov.vnn", false},
		{"https://*.gov.vn", "https://xgov.vn", false},
		{"https://*.gov.vn:8443", "https://x.gov.vn:8443", true},
		{"https://*.gov.vn:8443", "https://x.gov.vn", false},
		{"https://dichvucong.gov.vn", "https://dichvucong.gov.vn", true},
		{"https://dichvucong.gov.vn", "https://www.dichvucong.gov.vn", false},
		{"https://dichvucong.gov.vn", "https://dichvucong.gov.vn.evil.com", false},
		{"https://dichvucong.gov.vn", "http://dichvucong.gov.vn", false},
		{"https://dichvucong.gov.vn:443", "https://dichvucong.gov.vn", true},
		{"https://xn--tnh-2na.vn", "https://xn--tnh-2na.vn", true},
		{"http://localhost:3000", "http://localhost:3000", true},
		{"http://localhost:3000", "http://localhost:3001", false},
		{"http://localhost:3000", "https://localhost:3000", false},
	}
	for _, c := range cases {
		p, err := parsePattern(c.pattern, false)
		if err != nil {
			t.Fatalf("parsePattern(%q): %v", c.pattern, err)
		}
		o, err := parseOrigin(c.origin)
		if err != nil {
			t.Fatalf("parseOrigin(%q): %v", c.origin, err)
		}
		if got := p.match(o); got != c.match {
			t.Errorf("%q matches %q = %v, want %v", c.pattern, c.origin, got, c.match)
		}
	}
	// A blocked exact host also blocks its subdomains.
	b, _ := parsePattern("https://evil.example", true)
	for o, want := range map[string]bool{"https://evil.example": true, "https://a.evil.example": true,
		"https://notevil.example": false, "https://evil.example.com": false} {
		po, _ := parseOrigin(o)
		if b.match(po) != want {
			t.Errorf("blocked evil.example vs %s: want %v", o, want)
		}
	}
	for _, bad := range []string{"https://*.GOV.vn", "https://tỉnh.vn", "https://*", "https://*.vn", "https://a.*.vn",
		"https://*gov.vn", "https://*.*.gov.vn", "http://intranet.gov.vn", "https://*.1.2.3.4", "*.gov.vn",
		"gov.vn", "https://gov.vn/", "file://x"} {
		if _, err := parsePattern(bad, false); err == nil {
			t.Errorf("pattern %q accepted", bad)
		}
	}
}

func TestDecide(t *testing.T) {
	paths := testPaths(t)
	writeFile(t, paths.System, `{
  "allowedOrigins": ["https://*.gov.vn", "http://localhost:3000"],
  "blockedOrigins": ["https://bad.gov.vn"]
}`)
	writeFile(t, paths.User, `{"allowLocalhost": true}`)
	pol, err := loadPolicy(paths)
	if err != nil {
		t.Fatal(err)
	}
	for o, want := range map[string]decision{
		"https://a.gov.vn":       allowed,
		"https://bad.gov.vn":     denied,
		"https://x.bad.gov.vn":   denied,
		"https://shop.example":   approvable,
		"http://localhost:3000":  allowed,
		"http://localhost:4000":  approvable,
		"http://127.0.0.1:8080":  approvable,
		"http://example.com":     denied,
		"https://evilgov.vn":     approvable, // not allowed by the pattern: asks
		"https://x.gov.vn.e.com": approvable,
	} {
		po, err := parseOrigin(o)
		if err != nil {
			t.Fatal(err)
		}
		if got := pol.decide(po); got != want {
			t.Errorf("decide(%s) = %v, want %v", o, got, want)
		}
	}
	// Without allowLocalhost even a listed http origin is denied.
	writeFile(t, paths.User, `{}`)
	pol, _ = loadPolicy(paths)
	if po, _ := parseOrigin("http://localhost:3000"); pol.decide(po) != denied {
		t.Error("http://localhost allowed without allowLocalhost")
	}
}

func TestPrecedence(t *testing.T) {
	paths := testPaths(t)
	writeFile(t, paths.User, `{"allowedOrigins": ["https://mine.example"], "blockedOrigins": ["https://ads.example"],
		"userApproval": true, "allowLocalhost": true, "port": 3000, "pinCacheSeconds": 60, "modules": ["/opt/mine.so"]}`)
	writeFile(t, paths.Approvals, `{"format":1,"approved":[{"origin":"https://approved.example","at":"2025-01-01T00:00:00Z"}]}`)
	s, err := LoadSettings(paths)
	if err != nil {
		t.Fatal(err)
	}
	// pinCacheSeconds is the system policy's alone: the user's is ignored
	// (and said so, with its line).
	if !s.UserApproval || !s.AllowLocalhost || s.Port != 3000 || s.PinCacheSeconds != 0 || !userPINCacheWarned(s) ||
		len(s.AllowedOrigins) != 2 || len(s.Modules) != 1 {
		t.Fatalf("user only: %+v", s)
	}
	// The admin locks: the system's keys win, and with userApproval false
	// the user's own list and approvals are ignored.
	writeFile(t, paths.System, `{"allowedOrigins": ["https://*.gov.vn"], "blockedOrigins": ["https://x.example"],
		"userApproval": false, "allowLocalhost": false, "port": 28500, "pinCacheSeconds": 0, "modules": []}`)
	s, err = LoadSettings(paths)
	if err != nil {
		t.Fatal(err)
	}
	if s.UserApproval || s.AllowLocalhost || s.Port != 28500 || s.PinCacheSeconds != 0 || len(s.Modules) != 0 ||
		strings.Join(s.AllowedOrigins, ",") != "https://*.gov.vn" ||
		strings.Join(s.BlockedOrigins, ",") != "https://x.example,https://ads.example" {
		t.Fatalf("system over user: %+v", s)
	}
	if _, err := ApproveOrigin(paths, "https://new.example"); err == nil {
		t.Fatal("approve allowed while the admin locked user approval")
	}
	writeFile(t, paths.System, `{"pinCacheSeconds": 3600}`)
	if s, err = LoadSettings(paths); err != nil || s.PinCacheSeconds != 3600 || !userPINCacheWarned(s) {
		t.Fatalf("system pinCacheSeconds: %+v %v", s, err)
	}
	// At most an hour.
	writeFile(t, paths.System, "{\n \"pinCacheSeconds\": 3601}")
	if _, err = LoadSettings(paths); err == nil || !strings.Contains(err.Error(), "policy.json:2: pinCacheSeconds 3601: must be 0–3600") {
		t.Fatalf("pinCacheSeconds 3601: %v", err)
	}
	// Defaults.
	s, err = LoadSettings(testPaths(t))
	if err != nil || !s.UserApproval || s.AllowLocalhost || s.Port != 28418 || s.PinCacheSeconds != 0 || userPINCacheWarned(s) {
		t.Fatalf("defaults: %+v %v", s, err)
	}
}

func TestBrokenPolicy(t *testing.T) {
	cases := []struct {
		name, data, want string
	}{
		{"syntax", "{\n  \"allowedOrigins\": [\n    \"https://a.gov.vn\"\n  \n}\n", ":5: invalid JSON"},
		{"wrong type", "{\n  \"userApproval\": \"no\"\n}", `:2: "userApproval" must be true or false`},
		{"wrong list type", "{\n\n  \"allowedOrigins\": \"https://a.gov.vn\"\n}", `:3: "allowedOrigins" must be a list`},
		{"unknown key", "{\n  \"port\": 1,\n  \"allowOrigins\": []\n}", `:3: unknown key "allowOrigins"`},
		{"bad pattern", "{\n  \"allowedOrigins\": [\n    \"https://a.gov.vn\",\n    \"https://*.GOV.vn\"\n  ]\n}", `:4: origin pattern "https://*.GOV.vn"`},
		{"bad port", "{\n  \"port\": 70000\n}", ":2: port 70000"},
		{"relative module", "{\"modules\": [\"libfoo.so\"]}", `:1: module "libfoo.so"`},
		{"truncated", "{\n  \"port\": 1,", ":2: invalid JSON"},
		{"not an object", "[]", ":1:"},
		{"two objects", "{}\n{}", ":2: unexpected data"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			prov := newFakeProvider(t)
			h := newHarness(t, prov, allowPortal)
			if r := h.call(portal, "version", nil); code(r) != "OK" {
				t.Fatal(r.Error)
			}
			writeFile(t, h.paths.System, c.data)
			_, err := LoadSettings(h.paths)
			if err == nil || !strings.Contains(err.Error(), h.paths.System+c.want) {
				t.Fatalf("error %v, want %q", err, h.paths.System+c.want)
			}
			// Everything is denied while it is broken, and the page learns
			// nothing about the file.
			r := h.call(portal, "version", nil)
			if code(r) != "ORIGIN_DENIED" || strings.Contains(r.Error.Message, h.paths.System) {
				t.Fatalf("broken policy: %s %v", code(r), r.Error)
			}
			if h.e.MayAsk(portal) == nil {
				t.Fatal("MayAsk allowed with a broken policy")
			}
			// Fixed: allowed again, without a restart.
			os.Remove(h.paths.System)
			if r := h.call(portal, "version", nil); code(r) != "OK" {
				t.Fatalf("after the fix: %v", r.Error)
			}
		})
	}
	// A broken user config or approvals file denies too.
	h := newHarness(t, newFakeProvider(t), "{")
	if r := h.call(portal, "version", nil); code(r) != "ORIGIN_DENIED" {
		t.Fatal("broken user config not denied")
	}
	h = newHarness(t, newFakeProvider(t), allowPortal)
	writeFile(t, h.paths.Approvals, `{"approved":[{"origin":"https://*.example"}]}`)
	if r := h.call(portal, "version", nil); code(r) != "ORIGIN_DENIED" {
		t.Fatal("broken approvals not denied")
	}
}

func TestApproveRevokeCLI(t *testing.T) {
	paths := testPaths(t)
	writeFile(t, paths.System, `{"blockedOrigins": ["https://evil.example"]}`)
	for _, bad := range []string{"https://evil.example", "https://a.evil.example", "http://example.com",
		"https://*.example.com", "https://a.example/", "null"} {
		if _, err := ApproveOrigin(paths, bad); err == nil {
			t.Errorf("ApproveOrigin(%q) accepted", bad)
		}
	}
	if _, err := ApproveOrigin(paths, "https://ok.example"); err != nil {
		t.Fatal(err)
	}
	if _, err := ApproveOrigin(paths, "https://ok.example"); err != nil { // idempotent
		t.Fatal(err)
	}
	list, _ := ListOrigins(paths)
	if len(list) != 2 || !list[0].Blocked || list[0].Source != "system policy" || list[1].Origin != "https://ok.example" {
		t.Fatalf("list %+v", list)
	}
	if ok, _ := RevokeOrigin(paths, "https://other.example"); ok {
		t.Fatal("revoked what was not approved")
	}
	if ok, err := RevokeOrigin(paths, "https://ok.example:443"); !ok || err != nil {
		t.Fatalf("revoke: %v %v", ok, err)
	}
	if list, _ := ListOrigins(paths); len(list) != 1 {
		t.Fatalf("after revoke %+v", list)
	}
}

// userPINCacheWarned: the settings warn that the user's config sets
// pinCacheSeconds (on line 2, as TestPrecedence writes it).
func userPINCacheWarned(s Settings) bool {
	return slices.ContainsFunc(s.IgnoredUserKeys, func(k IgnoredKey) bool { return k.Key == "pinCacheSeconds" && k.Line == 2 })
}
