//go:build linux || darwin

package agent

// Security tests of the local socket against another local user: the host
// must not talk to a socket another user created (it would hand that user
// every origin and request, and take forged answers), and the agent must not
// follow a symlink or use a directory another user owns.

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A socket whose listener is another user is refused by the dialing side.
// The other user is simulated by expecting a uid that is not ours.
func TestDialLocalRefusesOtherUsersSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	if _, err := dialLocalAs(context.Background(), path, os.Getuid()+1); err == nil || !strings.Contains(err.Error(), "another user") {
		t.Fatalf("dial of a socket owned by another uid: %v, want a refusal", err)
	}
	c, err := dialLocalAs(context.Background(), path, os.Getuid())
	if err != nil {
		t.Fatalf("dial of our own socket: %v", err)
	}
	c.Close()
}

// The socket directory (in /tmp when nothing better exists) may have been
// made by another user, or be a symlink to somewhere else: refuse it rather
// than chmod it or put the socket there.
func TestListenLocalRefusesForeignDir(t *testing.T) {
	base := t.TempDir()
	target := filepath.Join(base, "elsewhere")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "kyso-link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if ln, err := ListenLocalAt(filepath.Join(link, "agent.sock")); err == nil {
		ln.Close()
		t.Fatal("listened in a directory reached through a symlink")
	}
	if st, _ := os.Stat(target); st.Mode().Perm() != 0o755 {
		t.Errorf("the symlink's target was chmodded to %o", st.Mode().Perm())
	}

	if os.Getuid() != 0 {
		t.Skip("needs root to make a directory owned by another user")
	}
	foreign := filepath.Join(base, "kyso-foreign")
	if err := os.Mkdir(foreign, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(foreign, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if ln, err := ListenLocalAt(filepath.Join(foreign, "agent.sock")); err == nil {
		ln.Close()
		t.Fatal("listened in a directory owned by another user")
	}
}

// DNS rebinding: Host headers that only look like loopback are refused.
func TestHostHeaderLookalikes(t *testing.T) {
	r := start(t, newEcho(), Options{})
	p := strconv.Itoa(r.port)
	for _, h := range []string{
		"localhost.:" + p, "127.0.0.1.:" + p, "localhost", "[::1]", "user@127.0.0.1:" + p,
		"[::ffff:127.0.0.1]:" + p, "127.1:" + p, "0x7f.0.0.1:" + p, "2130706433:" + p,
		"localhost:0" + p, "localhost.evil.com:" + p, "[0:0:0:0:0:0:0:1]:" + p,
	} {
		if got := r.status(t, r.url(), goodOrigin, h); got != http.StatusMisdirectedRequest && got != http.StatusBadRequest {
			t.Errorf("Host %q: HTTP %d, want 421 (or 400)", h, got)
		}
	}
	if got := r.status(t, r.url(), goodOrigin, "LocalHost:"+p); got != http.StatusSwitchingProtocols {
		t.Errorf("mixed-case localhost: HTTP %d, want 101", got)
	}
}
