//go:build linux && cgo

package security

// Another local user (a shared office PC, a terminal server) attacks the
// agent of the user at the keyboard: through the user-only local socket,
// and through the loopback WebSocket port, which every local user can
// reach, sending the Origin header of an allowed portal, which any
// non-browser client can forge.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"kyso.vn/kyso/internal/testenv"
)

// asNobody runs python3 code as uid/gid 65534 and returns its output.
func asNobody(t *testing.T, code string, args ...string) string {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root to run a client as another uid")
	}
	// The system python: a per-user one (pyenv shims) is not readable by
	// nobody.
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("/usr/bin/python3 not installed")
	}
	cmd := exec.Command("/usr/bin/python3", append([]string{"-c", code}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	cmd.Dir = "/"
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("client as nobody: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestOtherUserLocalSocket(t *testing.T) {
	a, display, base := attack(t, nil)
	client := `import socket,struct,sys
s=socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("refused:", e.strerror); sys.exit(0)
o=b'` + portal + `'
m=b'r'+struct.pack(">QI",1,len(o))+o+b'{"id":"n","op":"version"}'
try:
    s.sendall(struct.pack("<I",len(m))+m)
    s.settimeout(20)
    print("answer:", s.recv(100))
except OSError as e:
    print("answer: b''")`
	// The socket sits in the user's 0700 runtime dir, mode 0600.
	if out := asNobody(t, client, a.Sock); !strings.HasPrefix(out, "refused:") {
		t.Fatalf("another user reached the local socket: %s", out)
	}
	// Opened up on purpose (a careless admin, a shared runtime dir), the
	// agent's peer credential check still closes the connection unanswered.
	for d := filepath.Dir(a.Sock); d != filepath.Dir(a.Home); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	os.Chmod(a.Sock, 0o666)
	if out := asNobody(t, client, a.Sock); out != "answer: b''" {
		t.Fatalf("another user, socket mode 0666: %s (want the connection closed unanswered)", out)
	}
	if !strings.Contains(a.Log(), "another user") {
		t.Errorf("the refusal is not logged:\n%s", a.Log())
	}
	if testenv.HasWindow(t, display, "^Kyso") {
		t.Fatal("a dialog opened")
	}
	recovered(t, a, display, base, portal)
}

// The WebSocket port is open to every local user; the agent asks the
// kernel who owns the connecting socket and refuses other users before the
// upgrade, whatever Origin they claim.
func TestOtherUserWebSocket(t *testing.T) {
	a, display, base := attack(t, nil)
	out := asNobody(t, `import socket,sys
s=socket.create_connection(("127.0.0.1",int(sys.argv[1])))
s.sendall(("GET /v1 HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nOrigin: `+portal+`\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" % sys.argv[1]).encode())
s.settimeout(20)
print(s.recv(200).split(b"\r\n")[0].decode())`, strconv.Itoa(a.Port))
	if !strings.Contains(out, " 403 ") {
		t.Fatalf("another user's handshake got %q, want 403", out)
	}
	if !strings.Contains(a.Log(), "another user") {
		t.Errorf("the refusal is not logged:\n%s", a.Log())
	}
	if testenv.HasWindow(t, display, "^Kyso") {
		t.Fatal("a dialog opened")
	}
	recovered(t, a, display, base, portal)
}
