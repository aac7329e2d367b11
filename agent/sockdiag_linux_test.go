package agent

import (
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
)

// connPair opens a loopback connection on network and returns the server
// side's two addresses (ours, the peer's).
func connPair(t testing.TB, network, addr string) (ours, peer netip.AddrPort) {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("%s: %v", network, err)
	}
	t.Cleanup(func() { ln.Close() })
	c, err := net.Dial(network, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.LocalAddr().(*net.TCPAddr).AddrPort(), s.RemoteAddr().(*net.TCPAddr).AddrPort()
}

// The kernel's answer for the exact client socket, over IPv4 and IPv6, is
// the one /proc/net/tcp gives, and a socket that does not exist is not
// found. (Issue 16, finding 6c: diagLookup does not exist before.)
func TestDiagLookupOwn(t *testing.T) {
	for _, c := range []struct{ network, addr string }{{"tcp4", "127.0.0.1:0"}, {"tcp6", "[::1]:0"}} {
		ours, peer := connPair(t, c.network, c.addr)
		s, err := diagLookup(unmap(peer), unmap(ours))
		if err != nil {
			t.Fatalf("%s: netlink sock_diag: %v", c.network, err)
		}
		if s.uid != os.Getuid() || s.local != unmap(peer) || s.remote != unmap(ours) || s.inode == 0 {
			t.Fatalf("%s: %+v, want uid %d, %v→%v", c.network, s, os.Getuid(), peer, ours)
		}
		if uid, err := procTCPPeerUID(ours, peer); err != nil || uid != s.uid {
			t.Fatalf("%s: /proc says uid %d, %v", c.network, uid, err)
		}
		if _, err := diagLookup(netip.AddrPortFrom(peer.Addr(), 1), ours); err != errNoSocket {
			t.Fatalf("%s: a socket that does not exist: %v", c.network, err)
		}
	}
}

// Another user's client, over IPv4, IPv6, and IPv4 from an IPv6 socket
// (a v4-mapped address), is seen as that user by netlink (needs root to
// run one).
func TestDiagLookupOtherUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to connect as another uid")
	}
	for _, c := range []struct{ network, listen, pyFamily, pyHost string }{
		{"tcp4", "127.0.0.1:0", "AF_INET", "127.0.0.1"},
		{"tcp6", "[::1]:0", "AF_INET6", "::1"},
		{"tcp4", "127.0.0.1:0", "AF_INET6", "::ffff:127.0.0.1"},
	} {
		ln, err := net.Listen(c.network, c.listen)
		if err != nil {
			t.Skipf("%s: %v", c.network, err)
		}
		port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		cmd := exec.Command("/usr/bin/python3", "-c", `import socket,sys
s=socket.socket(getattr(socket, sys.argv[1]))
s.connect((sys.argv[2], int(sys.argv[3])))
sys.stdin.read()`, c.pyFamily, c.pyHost, port)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		stdin, _ := cmd.StdinPipe()
		if err := cmd.Start(); err != nil {
			t.Skipf("python3 as nobody: %v", err)
		}
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		ours, peer := s.LocalAddr().(*net.TCPAddr).AddrPort(), s.RemoteAddr().(*net.TCPAddr).AddrPort()
		d, err := diagLookup(unmap(peer), unmap(ours))
		if err != nil || d.uid != 65534 {
			t.Errorf("%s via %s: netlink uid %d, %v; want 65534", c.network, c.pyHost, d.uid, err)
		}
		if uid, err := tcpPeerUID(ours, peer); err != nil || uid != 65534 {
			t.Errorf("%s via %s: tcpPeerUID %d, %v", c.network, c.pyHost, uid, err)
		}
		s.Close()
		stdin.Close()
		cmd.Wait()
		ln.Close()
	}
}

// With netlink refused (a sandbox), the /proc fallback answers.
func TestTCPPeerUIDFallback(t *testing.T) {
	ours, peer := connPair(t, "tcp4", "127.0.0.1:0")
	diagOff.Store(true)
	defer diagOff.Store(false)
	if _, err := diagLookup(peer, ours); err != errDiagRefused {
		t.Fatalf("netlink off: %v", err)
	}
	if uid, err := tcpPeerUID(ours, peer); err != nil || uid != os.Getuid() {
		t.Fatalf("fallback: uid %d, %v", uid, err)
	}
}

// BenchmarkTCPPeerUID is the per-connection cost of the owner lookup, with
// 1,000 other connections open (a busy machine, or a flood): netlink asks
// for one socket, /proc/net/tcp is read and parsed whole.
func BenchmarkTCPPeerUID(b *testing.B) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		var conns []net.Conn
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range conns {
					c.Close()
				}
				return
			}
			conns = append(conns, c)
		}
	}()
	for i := 0; i < 1000; i++ {
		c, err := net.Dial("tcp4", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
	}
	ours, peer := connPair(b, "tcp4", "127.0.0.1:0")
	b.Run("netlink", func(b *testing.B) {
		for b.Loop() {
			if _, err := diagLookup(peer, ours); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("proc", func(b *testing.B) {
		for b.Loop() {
			if _, err := procTCPPeerUID(ours, peer); err != nil {
				b.Fatal(err)
			}
		}
	})
}
