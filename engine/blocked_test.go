package engine

import "testing"

// blockedOrigins names hosts: a blocked host is refused on every port and
// either scheme, with its subdomains; a blocked "*.d" refuses every
// subdomain of d on every port. Before, only the exact port was blocked, so
// https://evil.example:8443 got in through the user's list, an approval or
// the approval dialog (issue 16, finding 4).
func TestBlockedEveryPort(t *testing.T) {
	h := newHarness(t, newFakeProvider(t), `{"allowLocalhost": true, "allowedOrigins": [
		"https://evil.example:8443", "https://a.evil.example:9000",
		"https://x.ads.example:8443", "https://*.gov.vn:8443", "http://localhost:3000"]}`)
	writeFile(t, h.paths.System, `{"blockedOrigins": ["https://evil.example", "https://*.ads.example",
		"https://bad.gov.vn:8443", "http://localhost"]}`)
	for _, o := range []string{
		"https://evil.example", "https://evil.example:8443", "https://a.evil.example:9000",
		"https://x.ads.example:8443", "https://x.ads.example", "https://a.b.ads.example:1",
		"https://bad.gov.vn", "https://bad.gov.vn:8443", "https://x.bad.gov.vn:8443",
		"http://localhost:3000", "https://localhost:3000",
	} {
		if h.e.MayAsk(o) == nil {
			t.Errorf("MayAsk(%q) = nil: a blocked host got in", o)
		}
		if r := h.call(o, "version", nil); code(r) != "ORIGIN_DENIED" {
			t.Errorf("%s: %s, want ORIGIN_DENIED", o, code(r))
		}
	}
	// Neighbours of the blocked hosts are not blocked.
	for _, o := range []string{"https://notevil.example", "https://evil.example.com:8443",
		"https://ads.example", "https://ok.gov.vn:8443", "http://127.0.0.1:3000"} {
		if err := h.e.MayAsk(o); err != nil {
			t.Errorf("MayAsk(%q) = %v: not blocked, approvable", o, err)
		}
	}
	if n := len(h.pr.Calls()); n != 0 {
		t.Errorf("blocked origins opened %d dialogs", n)
	}
}
