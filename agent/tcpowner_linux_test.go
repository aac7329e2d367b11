package agent

import (
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

func TestParseProcAddr(t *testing.T) {
	for in, want := range map[string]string{
		"0100007F:1F90":                         "127.0.0.1:8080",
		"00000000000000000000000001000000:6E62": "[::1]:28258",
		"0000000000000000FFFF00000100007F:0050": "127.0.0.1:80",
	} {
		got, err := parseProcAddr(in)
		if err != nil || got.String() != want {
			t.Errorf("%s: %v %v, want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0100007F", "01007F:1F90", "zz00007F:1F90", "0100007F:1FFFF"} {
		if _, err := parseProcAddr(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// Our own connection is ours, over IPv4 and IPv6 loopback.
func TestTCPPeerUIDOwn(t *testing.T) {
	for _, network := range []string{"tcp4", "tcp6"} {
		addr := map[string]string{"tcp4": "127.0.0.1:0", "tcp6": "[::1]:0"}[network]
		ln, err := net.Listen(network, addr)
		if err != nil {
			t.Skipf("%s: %v", network, err)
		}
		defer ln.Close()
		c, err := net.Dial(network, ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ours := s.LocalAddr().(*net.TCPAddr).AddrPort()
		peer := s.RemoteAddr().(*net.TCPAddr).AddrPort()
		uid, err := tcpPeerUID(ours, peer)
		if err != nil || uid != os.Getuid() {
			t.Fatalf("%s: uid %d, %v; want %d", network, uid, err, os.Getuid())
		}
		if _, err := tcpPeerUID(ours, netip.AddrPortFrom(peer.Addr(), 1)); err == nil {
			t.Fatalf("%s: found a socket that does not exist", network)
		}
	}
}

// A client of another user is seen as that user (needs root to run one).
func TestTCPPeerUIDOtherUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to connect as another uid")
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// Holds the connection open until we close stdin.
	cmd := exec.Command("/usr/bin/python3", "-c", `import socket,sys
s=socket.create_connection(("127.0.0.1",int(sys.argv[1])))
sys.stdin.read()`, strings.Split(ln.Addr().String(), ":")[1])
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	stdin, _ := cmd.StdinPipe()
	if err := cmd.Start(); err != nil {
		t.Skipf("python3 as nobody: %v", err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	uid, err := tcpPeerUID(s.LocalAddr().(*net.TCPAddr).AddrPort(), s.RemoteAddr().(*net.TCPAddr).AddrPort())
	if err != nil || uid != 65534 {
		t.Fatalf("uid %d, %v; want 65534", uid, err)
	}
}
