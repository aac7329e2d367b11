package agent

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
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

// Another user holding many half-sent requests on the WebSocket port (a
// slowloris on a shared machine) takes at most half of the TCP places plus
// maxOtherUserConns: this user's pages are still served, and the other
// user's connections beyond that are closed at once.
func TestOtherUserCannotFillTCPCap(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to connect as another uid")
	}
	r := start(t, newEcho(), Options{MaxConns: 10}) // 20 TCP places
	const n = 60
	cmd := exec.Command("/usr/bin/python3", "-c", `import socket,sys
port, n = int(sys.argv[1]), int(sys.argv[2])
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /v1 HTTP/1.1\r\n")  # and never the rest
    socks.append(s)
print("holding", flush=True)
sys.stdin.read()
closed = 0
for s in socks:
    s.settimeout(0.5)
    try:
        if s.recv(1) == b"":
            closed += 1
    except Exception as e:
        closed += isinstance(e, ConnectionResetError)
print("closed", closed, flush=True)`, strconv.Itoa(r.port), strconv.Itoa(n))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Skipf("python3 as nobody: %v", err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	out := bufio.NewReader(stdout)
	if line, err := out.ReadString('\n'); err != nil || line != "holding\n" {
		t.Fatalf("the other user's client: %q, %v", line, err)
	}
	// Wait until the agent has taken them in: the ten first (accepted with
	// no owner lookup) hold places, the rest were counted apart or closed.
	// Not a timing assertion: only the accepts need to be done.
	for deadline := time.Now().Add(9 * time.Second); r.a.tcpConns.Load() != 10 || r.a.otherConns.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("the agent holds %d+%d connections", r.a.tcpConns.Load(), r.a.otherConns.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// This user still gets ten connections at once (the other user's last
	// lookups may still be under way: a connection closed at accept is
	// tried again, as a page would).
	for i := 0; i < 10; i++ {
		var c *websocket.Conn
		for try := 0; ; try++ {
			var err error
			if c, _, err = r.dialRaw(r.url(), goodOrigin, ""); err == nil {
				break
			} else if try == 3 {
				t.Fatalf("connection %d of this user: %v (places: %d ours+unknown, %d other user's)",
					i, err, r.a.tcpConns.Load(), r.a.otherConns.Load())
			}
		}
		defer c.Close()
		if got := callWS(t, c, map[string]any{"id": "e", "op": "echo"}); !got.OK {
			t.Fatalf("connection %d of this user: %+v", i, got)
		}
	}
	if o := r.a.otherConns.Load(); o > maxOtherUserConns {
		t.Errorf("%d places held by another user, want at most %d", o, maxOtherUserConns)
	}
	stdin.Close()
	line, _ := out.ReadString('\n')
	var closed int
	if _, err := fmt.Sscanf(line, "closed %d", &closed); err != nil || closed == 0 {
		t.Errorf("the other user's connections beyond the cap were not closed: %q", line)
	}
}
