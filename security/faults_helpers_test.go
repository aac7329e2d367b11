//go:build linux && cgo

package security

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"kyso.vn/kyso/internal/testenv"
)

// faultsAgent starts the agent with the fault module's control in its
// environment (NewFault sets it for the test process, which the agent
// inherits) and the given modules instead of SoftHSM alone.
func faultsAgent(t *testing.T, display string, modules ...string) (*testenv.Agent, *testenv.Fault) {
	t.Helper()
	tokens(t)
	f := testenv.NewFault(t)
	return startAgent(t, display, map[string]any{"modules": modules}), f
}

// faultsKyso runs another kyso subcommand as the agent's user would: same
// environment (its home, config dir, cache dir), same config file.
func faultsKyso(t *testing.T, a *testenv.Agent, args ...string) string {
	t.Helper()
	cmd := exec.Command(testenv.KysoBinary(t), args...)
	cmd.Env = a.Env
	out, _ := cmd.CombinedOutput() // doctor and status exit non-zero on findings
	return string(out)
}

// faultsDied sends a sign request that makes the agent call into its
// modules, and waits for the agent to die of it.
func faultsDied(t *testing.T, a *testenv.Agent) {
	t.Helper()
	c, _, err := a.Dial(portal)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	b, _ := json.Marshal(req("crash", "sign", signParams(certID(t, testenv.CertRSA), hashOf("crash"))))
	c.WriteMessage(websocket.TextMessage, b)
	c.SetReadDeadline(time.Now().Add(60 * time.Second))
	if _, m, err := c.ReadMessage(); err == nil {
		t.Fatalf("the agent answered instead of crashing: %s", m)
	}
	select {
	case <-a.Exited():
	case <-time.After(60 * time.Second):
		t.Fatal("the agent did not exit after the module crashed it")
	}
}

// faultsJournalDir is the agent's crash journal.
func faultsJournalDir(a *testenv.Agent) string {
	return filepath.Join(a.Home, "cache", "kyso", "modules")
}

// faultsWaitInCall waits until the agent's crash journal marker shows it
// inside call (the marker is what the journal reads after a crash).
func faultsWaitInCall(t *testing.T, a *testenv.Agent, call string) {
	t.Helper()
	marker := filepath.Join(faultsJournalDir(a), "run-"+strconv.Itoa(a.Pid()))
	want := append([]byte{'1'}, call...)
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if b, err := os.ReadFile(marker); err == nil && bytes.Contains(b, want) {
			return
		}
	}
	t.Fatalf("the agent never entered %s (marker %s)", call, marker)
}

// faultsKill SIGKILLs the agent and the dialogs it had open: a killed
// process's zenity children outlive it and would answer for the next one.
// They are found by the agent's own runtime dir in their environment.
func faultsKill(t *testing.T, a *testenv.Agent, display string) {
	t.Helper()
	a.Kill()
	mark := []byte("XDG_RUNTIME_DIR=" + filepath.Join(a.Home, "run") + "\x00")
	procs, _ := filepath.Glob("/proc/[0-9]*/environ")
	for _, p := range procs {
		env, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(env, mark) {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if err == nil && pid != os.Getpid() {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	testenv.WaitNoWindow(t, display, "^Kyso")
}

// faultsDialogText is the text of the agent's open zenity dialog, read from
// the zenity process's arguments (the dialog's words cannot be read from
// the X window).
func faultsDialogText(t *testing.T, a *testenv.Agent) string {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		st, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		i := bytes.LastIndexByte(st, ')')
		f := strings.Fields(string(st[i+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(a.Pid()) {
			continue
		}
		args, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "cmdline"))
		if bytes.Contains(args, []byte("zenity")) {
			return string(bytes.ReplaceAll(args, []byte{0}, []byte{' '}))
		}
	}
	return ""
}

// faultsFilesIntact checks that the JSON files Kyso writes in the agent's
// config dir and its crash journal parse, and lists the temp files left
// beside them.
func faultsFilesIntact(t *testing.T, a *testenv.Agent) (temps []string) {
	t.Helper()
	for _, p := range []string{a.Config, filepath.Join(a.Home, "approvals.json"), filepath.Join(faultsJournalDir(a), "modules.json")} {
		b, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			continue
		}
		var v any
		if err != nil || json.Unmarshal(b, &v) != nil {
			t.Errorf("%s does not parse after SIGKILL: %v\n%s", p, err, b)
		}
	}
	for _, dir := range []string{a.Home, filepath.Join(a.Home, "config", "kyso"), faultsJournalDir(a)} {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if strings.Contains(e.Name(), ".tmp") {
				temps = append(temps, filepath.Join(dir, e.Name()))
			}
		}
	}
	return temps
}
