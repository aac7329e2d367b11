package testenv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// AgentOptions says how to run the shipped binary as an agent.
type AgentOptions struct {
	// Config is written to Home/config.json (the --config file). "port" is
	// filled in with a free port when absent.
	Config map[string]any
	// Tokens gives the agent SOFTHSM2_CONF (default: the shared tokens).
	Tokens *Tokens
	// Display is the X display for the dialogs ("" for none: DISPLAY and
	// WAYLAND_DISPLAY are then set empty, as in a session without a
	// desktop).
	Display string
	// Env is added to the agent's environment (a key given twice: the
	// last one counts).
	Env []string
	// SkipModules are written into the agent's crash journal as disabled
	// before it starts, as `kyso modules` would list them: the agent does
	// not load them. Tests of the fault module skip the SoftHSM it wraps,
	// which p11-kit also registers, so that a token the fault module
	// pulls out is out for the agent too (SoftHSMReal).
	SkipModules []string
	// SystemPolicy, when set, is the system policy the agent reads: the
	// agent runs in a mount namespace of its own where a temporary folder
	// holding it is mounted over /etc/kyso (root and unshare(1) needed,
	// else the test is skipped). The real /etc/kyso is not touched.
	SystemPolicy map[string]any
	// Wrap, when set, is a command the agent is started through: Wrap[0]
	// runs with Wrap[1:], then the kyso binary and its arguments (such as
	// unshare and a shell that mounts a test's /etc/kyso, see
	// security/TestPlantedSystemPolicy). It must exec kyso in the end, so
	// that the process is the agent.
	Wrap []string
	// LocalOnly: wait only for the local socket, not for the WebSocket
	// port (an agent in a network namespace of its own, whose port the
	// test cannot reach).
	LocalOnly bool
}

// Agent is `kyso serve` from the shipped binary, run in a home of its own:
// XDG_RUNTIME_DIR, XDG_CONFIG_HOME and XDG_CACHE_HOME all live under Home,
// so a test sees every file the agent writes. At cleanup the agent is
// killed, and the test fails if the tokens' PIN appears in its output or in
// any file under Home (DESIGN: never in a log line, a file or a message).
type Agent struct {
	Home   string // the agent's own directory tree
	Config string // Home/config.json
	Port   int
	URL    string // ws://127.0.0.1:Port/v1
	Sock   string // the user-only local socket
	Env    []string
	PIN    string   // the tokens' PIN, looked for at cleanup
	Wrap   []string // AgentOptions.Wrap
	local  bool     // AgentOptions.LocalOnly

	t      testing.TB
	out    *syncBuffer
	cmd    *exec.Cmd
	exited chan error
}

// StartAgent starts `kyso serve` and waits until it accepts connections.
func StartAgent(t testing.TB, o AgentOptions) *Agent {
	t.Helper()
	if o.Tokens == nil {
		o.Tokens = Shared(t)
	}
	// Short: the Unix socket path must fit in 108 bytes.
	home, err := os.MkdirTemp("", "kyso-agent-")
	if err != nil {
		t.Fatal(err)
	}
	a := &Agent{Home: home, Config: filepath.Join(home, "config.json"), PIN: o.Tokens.PIN, Wrap: o.Wrap, local: o.LocalOnly, t: t}
	cfg := map[string]any{}
	for k, v := range o.Config {
		cfg[k] = v
	}
	if _, ok := cfg["port"]; !ok {
		cfg["port"] = freePort(t)
	}
	a.Port = int(toFloat(cfg["port"]))
	a.URL = "ws://127.0.0.1:" + strconv.Itoa(a.Port) + "/v1"
	a.Sock = filepath.Join(home, "run", "kyso", "agent.sock")
	b, _ := json.MarshalIndent(cfg, "", "  ")
	if err := os.WriteFile(a.Config, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(home, "run"), 0o700); err != nil {
		t.Fatal(err)
	}
	a.Env = append(os.Environ(),
		"SOFTHSM2_CONF="+o.Tokens.Conf,
		// C.UTF-8 is always installed; LANGUAGE asks for Vietnamese text.
		"NO_AT_BRIDGE=1", "LC_ALL=", "LC_MESSAGES=", "LANG=C.UTF-8", "LANGUAGE=vi",
		"XDG_RUNTIME_DIR="+filepath.Join(home, "run"),
		"XDG_CACHE_HOME="+filepath.Join(home, "cache"),
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"),
		"HOME="+home,
	)
	a.Env = append(a.Env, "DISPLAY="+o.Display)
	if o.Display == "" {
		a.Env = append(a.Env, "WAYLAND_DISPLAY=")
	}
	a.Env = append(a.Env, o.Env...)
	if len(o.SkipModules) > 0 {
		skipModules(t, filepath.Join(home, "cache", "kyso", "modules"), o.SkipModules)
	}
	if o.SystemPolicy != nil {
		// unshare execs sh, which mounts and execs kyso: one process.
		a.Wrap = []string{"unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
			`mount --bind "$0" /etc/kyso && exec "$@"`, systemPolicy(t, home, o.SystemPolicy)}
	}
	a.out = &syncBuffer{}
	t.Cleanup(func() {
		a.kill()
		if t.Failed() {
			t.Logf("kyso serve output:\n%s", a.Output())
			t.Logf("kyso.log:\n%s", a.Log())
		}
		if err := NoSecret(a.PIN, a.Output(), a.Home); err != nil {
			t.Error(err)
		}
		os.RemoveAll(home)
	})
	a.Start()
	return a
}

// Start (re)starts the agent on the same home, config and port, and waits
// until it accepts connections.
func (a *Agent) Start() {
	t := a.t
	t.Helper()
	a.cmd = a.Command("serve", "--config", a.Config)
	a.cmd.Stdout, a.cmd.Stderr = a.out, a.out
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	a.exited = exited
	go func(c *exec.Cmd) { exited <- c.Wait() }(a.cmd)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(a.Port), time.Second)
		if err == nil || a.local {
			if c != nil {
				c.Close()
			}
			if _, err := os.Stat(a.Sock); err == nil {
				return
			}
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("kyso serve exited: %v\n%s", err, a.Output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("kyso serve never listened on port %d\n%s", a.Port, a.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Command is the kyso binary with args, run as the agent runs: its
// environment, through its Wrap.
func (a *Agent) Command(args ...string) *exec.Cmd {
	argv := append(append(append([]string{}, a.Wrap...), KysoBinary(a.t)), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = a.Env
	return cmd
}

// Exited delivers the agent process's exit (once).
func (a *Agent) Exited() <-chan error { return a.exited }

// Stop sends SIGTERM, as systemd and launchd stop the agent, and returns how
// it exited.
func (a *Agent) Stop() error {
	a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-a.exited:
		return err
	case <-time.After(30 * time.Second):
		a.kill()
		return errors.New("kyso serve did not stop within 30 s of SIGTERM")
	}
}

// Kill sends SIGKILL (nothing runs after it: no deferred cleanup, no
// flush) and waits for the process to be gone.
func (a *Agent) Kill() { a.kill() }

func (a *Agent) kill() {
	if a.cmd == nil || a.cmd.ProcessState != nil {
		return
	}
	a.cmd.Process.Kill()
	select {
	case err := <-a.exited:
		a.exited <- err
	case <-time.After(30 * time.Second):
	}
}

// Pid is the agent's process id.
func (a *Agent) Pid() int { return a.cmd.Process.Pid }

// Output is what the agent wrote to stdout and stderr so far.
func (a *Agent) Output() string { return a.out.String() }

// Log is the agent's log file so far.
func (a *Agent) Log() string {
	b, _ := os.ReadFile(filepath.Join(a.Home, "cache", "kyso", "kyso.log"))
	return string(b)
}

// Dial opens a WebSocket to the agent as a page of origin ("" sends no
// Origin header).
func (a *Agent) Dial(origin string) (*websocket.Conn, *http.Response, error) {
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	return d.Dial(a.URL, h)
}

// SoftHSMReal is the file SoftHSM's module resolves to, the path the crash
// journal knows it by.
func SoftHSMReal(t testing.TB) string {
	t.Helper()
	p, err := filepath.EvalSymlinks(FindSoftHSM())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// skipModules writes the crash journal's modules.json with modules
// disabled.
func skipModules(t testing.TB, dir string, modules []string) {
	t.Helper()
	recs := map[string]any{}
	for _, m := range modules {
		recs[m] = map[string]any{"crashes": 2, "disabled": true, "call": "C_Initialize"}
	}
	b, _ := json.Marshal(map[string]any{"format": 1, "modules": recs})
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "modules.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// systemPolicy writes policy into a root-owned folder under home, to be
// mounted over /etc/kyso in the agent's own mount namespace, and returns
// the folder. /etc/kyso is made (empty) when missing, as a mount point.
func systemPolicy(t testing.TB, home string, policy map[string]any) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a system policy for the agent needs root (a mount namespace)")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare(1) not installed")
	}
	if out, err := exec.Command("unshare", "--mount", "--", "true").CombinedOutput(); err != nil {
		t.Skipf("no mount namespace here: %v %s", err, out)
	}
	if err := os.MkdirAll("/etc/kyso", 0o755); err != nil {
		t.Skipf("no /etc/kyso mount point: %v", err)
	}
	dir := filepath.Join(home, "etc-kyso")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(policy, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "policy.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// NoSecret reports an error when secret appears in any of texts or in any
// file under dirs (symlinks are not followed).
func NoSecret(secret, text string, dirs ...string) error {
	if secret == "" {
		return errors.New("testenv: NoSecret with an empty secret")
	}
	var found []string
	if bytes.Contains([]byte(text), []byte(secret)) {
		found = append(found, "the process output")
	}
	for _, dir := range dirs {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(secret)) {
				found = append(found, p)
			}
			return nil
		})
	}
	if len(found) > 0 {
		return fmt.Errorf("the PIN %q appears in %v", secret, found)
	}
	return nil
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func toFloat(v any) float64 {
	switch n := v.(type) {
	case int:
		return float64(n)
	case float64:
		return n
	}
	return 0
}

// syncBuffer collects a process's output while tests read it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
