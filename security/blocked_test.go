//go:build linux && cgo

package security

import (
	"net/http"
	"testing"
)

// A blocked host is refused before the upgrade on every port, and a blocked
// "https://*.domain" refuses every subdomain on every port, even when the
// user's list names that port or userApproval (on here) would let the
// person approve it. Before the fix only the exact port was blocked
// (issue 16, finding 4): https://evil.example:8443 got its WebSocket.
func TestNetBlockedEveryPort(t *testing.T) {
	a, display, base := attack(t, map[string]any{
		"allowedOrigins": []string{portal, other, "https://evil.example:8443", "https://x.ads.example:8443"},
		"blockedOrigins": []string{"https://evil.example", "https://*.ads.example"},
	})
	host := netHost(a)
	for _, origin := range []string{
		"https://evil.example", "https://evil.example:8443", "https://evil.example:28418",
		"https://a.evil.example:8443", "https://x.ads.example", "https://x.ads.example:8443",
		"https://a.b.ads.example:1",
	} {
		if got := netHandshake(t, a, host, origin); got != http.StatusForbidden {
			t.Errorf("blocked %q: HTTP %d, want 403", origin, got)
		}
	}
	// Not blocked: approvable (userApproval), so the handshake is let through.
	for _, origin := range []string{"https://notevil.example:8443", "https://ads.example:8443"} {
		if got := netHandshake(t, a, host, origin); got != http.StatusSwitchingProtocols {
			t.Errorf("%q: HTTP %d, want 101", origin, got)
		}
	}
	netNoDialog(t, display)
	recovered(t, a, display, base, portal)
}
