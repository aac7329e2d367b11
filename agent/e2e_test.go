//go:build linux && cgo

package agent

// The shipped binary end to end: `kyso serve` under Xvfb with the real
// zenity PIN dialog, answered by xdotool like a person would, signing on
// SoftHSM2 for a page over the WebSocket; then stopped with SIGTERM.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
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

// pinTitle finds the PIN dialog: its title begins with "Kyso" and contains
// "PIN" (DESIGN, rules that hold everywhere).
const pinTitle = "^Kyso.*PIN"

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestE2EServeBinary(t *testing.T) {
	testenv.NeedX11(t)
	tk := testenv.Shared(t) // sets SOFTHSM2_CONF, inherited by kyso
	bin := testenv.KysoBinary(t)
	display := testenv.Display(t)

	home, err := os.MkdirTemp("", "kyso-e2e-") // short: the socket lives here
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	port := freePort(t)
	cfg := filepath.Join(home, "config.json")
	if err := os.WriteFile(cfg, mustJSON(t, map[string]any{
		"allowedOrigins": []string{portal},
		"modules":        []string{tk.Module},
		"port":           port,
	}), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(),
		// C.UTF-8 is always installed; LANGUAGE asks for Vietnamese text.
		"DISPLAY="+display, "NO_AT_BRIDGE=1", "LC_ALL=", "LC_MESSAGES=", "LANG=C.UTF-8", "LANGUAGE=vi",
		"XDG_RUNTIME_DIR="+filepath.Join(home, "run"),
		"XDG_CACHE_HOME="+filepath.Join(home, "cache"),
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"),
	)
	os.MkdirAll(filepath.Join(home, "run"), 0o700)
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "serve", "--config", cfg)
	cmd.Env = env
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("kyso serve stderr:\n%s", stderr.String())
			if b, err := os.ReadFile(filepath.Join(home, "cache", "kyso", "kyso.log")); err == nil {
				t.Logf("kyso.log:\n%s", b)
			}
		}
	})

	// Wait for it to serve (bounded, no timing asserted).
	url := "ws://127.0.0.1:" + strconv.Itoa(port) + "/v1"
	var c *websocket.Conn
	deadline := time.Now().Add(30 * time.Second)
	for {
		h := make(map[string][]string)
		h["Origin"] = []string{portal}
		c, _, err = websocket.DefaultDialer.Dial(url, h)
		if err == nil {
			break
		}
		select {
		case e := <-exited:
			t.Fatalf("kyso serve exited: %v", e)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("kyso serve never answered on %s: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	defer c.Close()

	// A second agent for the same user refuses to start, clearly.
	second := exec.Command(bin, "serve", "--config", cfg)
	second.Env = env
	out, err := second.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 || !strings.Contains(string(out), "already running") {
		t.Errorf("second kyso serve: %v, %s", err, out)
	}

	if resp := callWS(t, c, req("v", "version", nil)); !resp.OK {
		t.Fatalf("version: %+v", resp)
	}

	ecID := certID(t, tk, testenv.CertEC)
	for _, wrongFirst := range []bool{false, true} {
		hash := hashOf("e2e " + strconv.FormatBool(wrongFirst))
		if err := c.WriteMessage(websocket.TextMessage, mustJSON(t, req("s", "sign", signParams(ecID, hash, "")))); err != nil {
			t.Fatal(err)
		}
		if wrongFirst {
			first := windowPID(t, display, testenv.WaitWindow(t, display, pinTitle))
			testenv.AnswerPIN(t, display, pinTitle, "000000")
			waitNewWindow(t, display, pinTitle, first)
		}
		testenv.AnswerPIN(t, display, pinTitle, testenv.PIN)
		resp := readWS(t, c)
		var sr struct{ Signature string }
		if !resp.OK || json.Unmarshal(resp.Result, &sr) != nil {
			t.Fatalf("sign (wrong PIN first: %v): %+v", wrongFirst, resp)
		}
		sig, _ := base64.StdEncoding.DecodeString(sr.Signature)
		verify(t, tk, testenv.CertEC, hash, sig, "ECDSA")
	}

	// Stopped like systemd/launchd stop it: exits 0, socket removed.
	sock := filepath.Join(home, "run", "kyso", "agent.sock")
	if _, err := os.Stat(sock); err != nil {
		t.Errorf("socket while running: %v", err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("kyso serve after SIGTERM: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("kyso serve did not stop on SIGTERM")
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket after stop: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(home, "cache", "kyso", "kyso.log")); err != nil || bytes.Contains(b, []byte(`"`+testenv.PIN+`"`)) {
		t.Errorf("log file: %v (must exist and never hold the PIN)", err)
	}
}

// windowPID is the process that owns window id (GTK sets _NET_WM_PID).
func windowPID(t *testing.T, display, id string) string {
	t.Helper()
	return testenv.Xdotool(t, display, "getwindowpid", id)
}

// waitNewWindow waits until a window matching pattern exists that belongs
// to another process than oldPID: the PIN dialog reopened after a wrong PIN.
// (Window ids are no help: the X server reuses a departed client's ids.)
func waitNewWindow(t *testing.T, display, pattern, oldPID string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		cmd := exec.Command("xdotool", "search", "--name", pattern)
		cmd.Env = append(os.Environ(), "DISPLAY="+display)
		out, _ := cmd.Output()
		for _, id := range strings.Fields(string(out)) {
			pc := exec.Command("xdotool", "getwindowpid", id)
			pc.Env = cmd.Env
			if pid, err := pc.Output(); err == nil && strings.TrimSpace(string(pid)) != oldPID {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the PIN dialog did not reopen after a wrong PIN")
}
