//go:build linux && cgo

package security

// Findings of the red-team pass on the shipped binary (issue 8), kept as
// regression tests.

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"kyso.vn/kyso/agent"
)

// Another local user holding more half-sent requests than the agent has TCP
// places (2,000) shut the person's own pages out: every connection of
// theirs was closed at accept. Now another user's connections take at most
// half the places (and a few more, counted apart), and the person's pages
// are still served.
func TestRedteamOtherUserSlowlorisTCPCap(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a client as another uid")
	}
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("/usr/bin/python3 not installed")
	}
	a, display, base := attack(t, nil)
	// A real slowloris: half-sent requests, each one sent again when the
	// agent closes it, until stdin closes.
	cmd := exec.Command("/usr/bin/python3", "-c", `import select,socket,sys,threading
port, n = int(sys.argv[1]), int(sys.argv[2])
def half():
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /v1 HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the rest
    return s
p = select.poll()
socks = {}
for i in range(n):
    s = half()
    socks[s.fileno()] = s
    p.register(s, select.POLLIN)
print("holding", flush=True)
done = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
while not done.is_set():
    for fd, _ in p.poll(50):
        p.unregister(fd)
        socks.pop(fd).close()
        try:
            s = half()
        except OSError:
            continue
        socks[s.fileno()] = s
        p.register(s, select.POLLIN)`, strconv.Itoa(a.Port), "2100")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	cmd.Dir = "/"
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatalf("client as nobody: %v", err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			stdin.Close()
			cmd.Wait()
		}
	}
	defer stop()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "holding\n" {
		t.Fatalf("the other user's client: %q, %v", line, err)
	}
	// While the agent looks up the owners of the last of them, a
	// connection of ours may still be closed at accept: a page tries
	// again, and so does this (a wait, not a timing assertion).
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, resp, err := a.Dial(portal)
		if err == nil {
			r := call(t, c, req("v", "version", nil))
			c.Close()
			if !r.OK {
				t.Fatalf("version while another user holds the port: %+v", r)
			}
			break
		}
		if resp != nil || time.Now().After(deadline) {
			t.Fatalf("this user's page is shut out while another user holds 2,100 half-sent requests: %v %+v", err, resp)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The connections beyond the other users' places were closed, and
	// that is logged.
	for !strings.Contains(a.Log(), "refused: connections from other users") {
		if time.Now().After(deadline) {
			t.Fatalf("the other user's connections were not refused:\n%s", a.Log())
		}
		time.Sleep(200 * time.Millisecond)
	}
	stop()
	recovered(t, a, display, base, portal)
}

// With userApproval on, any https page may connect, and a site with wildcard
// DNS has endless origins, each under its own per-origin cap: 32 made-up
// names × 32 connections filled the overall cap and the allowed portal got
// 503. Origins not yet allowed now share half the cap.
func TestRedteamMadeUpOriginsCannotFillCap(t *testing.T) {
	a, display, base := attack(t, nil) // userApproval on: the default
	const origins, per = 33, 32
	conns, statuses := netFlood(t, a, origins*per, func(i int) string {
		return "https://s" + strconv.Itoa(i%origins) + ".evil-example.com"
	})
	defer closeAll(conns)
	if len(conns) != agent.DefaultMaxConns/2 || statuses[http.StatusServiceUnavailable] != origins*per-agent.DefaultMaxConns/2 {
		t.Fatalf("%d open, refusals %v; want %d open and the rest 503", len(conns), statuses, agent.DefaultMaxConns/2)
	}
	netVersion(t, a, portal)
	netVersion(t, a, other)
	closeAll(conns)
	netNoDialog(t, display)
	recovered(t, a, display, base, portal)
}
