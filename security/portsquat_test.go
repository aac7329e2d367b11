//go:build linux && cgo

package security

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"kyso.vn/kyso/internal/testenv"
)

// Another user's program takes 127.0.0.1:PORT before the agent starts (a
// port squatter on a shared machine): pages reaching 127.0.0.1 would talk
// to it. The agent still serves [::1] and its local socket, logs the
// squatter with its user, pid and program path, and `kyso doctor` names it
// (issue 16, finding 6a). Before, the agent said nothing and the doctor
// only "taken by another program".
func TestPortSquatterNamed(t *testing.T) {
	line, squatter := testenv.PythonAsNobody(t, `import socket,sys
s=socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True)
sys.stdin.read()`)
	port, err := strconv.Atoi(line)
	if err != nil {
		t.Fatalf("squatter said %q", line)
	}
	exe, _ := os.Readlink("/proc/" + strconv.Itoa(squatter) + "/exe")
	pid := strconv.Itoa(squatter)

	a := startAgent(t, "", map[string]any{"port": port})
	// The socket that StartAgent waits for opens before the port is tried.
	log := a.Log()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(log, "agent starting") && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		log = a.Log()
	}
	if !strings.Contains(log, "not Kyso") && !strings.Contains(log, "another user's program") ||
		!strings.Contains(log, `"exe":"`+exe+`"`) || !strings.Contains(log, `"pid":`+pid) || !strings.Contains(log, `"user":"nobody"`) {
		t.Errorf("the agent's log does not name the squatter (%s, pid %s, nobody):\n%s", exe, pid, log)
	}

	cmd := exec.Command(testenv.KysoBinary(t), "doctor", "--config", a.Config)
	cmd.Env = append(a.Env, "LANGUAGE=en", "LANG=en_US.UTF-8")
	out, _ := cmd.CombinedOutput() // exits 1: the port is a fault
	if !strings.Contains(string(out), exe) || !strings.Contains(string(out), "process "+pid) || !strings.Contains(string(out), "user nobody") {
		t.Errorf("kyso doctor does not name the squatter (%s, pid %s, nobody):\n%s", exe, pid, out)
	}
}
