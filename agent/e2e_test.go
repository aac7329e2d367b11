//go:build linux && cgo

package agent

// The shipped binary end to end: `kyso serve` under Xvfb with the real
// zenity PIN dialog, answered by xdotool like a person would, signing on
// SoftHSM2 for a page over the WebSocket; then stopped with SIGTERM.

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"kyso.vn/kyso/internal/testenv"
)

// pinTitle finds the PIN dialog: its title begins with "Kyso" and contains
// "PIN" (DESIGN, rules that hold everywhere).
const pinTitle = "^Kyso.*PIN"

func TestE2EServeBinary(t *testing.T) {
	testenv.NeedX11(t)
	tk := testenv.Shared(t)
	display := testenv.Display(t)
	a := testenv.StartAgent(t, testenv.AgentOptions{Display: display, Config: map[string]any{
		"allowedOrigins": []string{portal},
		"modules":        []string{tk.Module},
	}})
	c, _, err := a.Dial(portal)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	// A second agent for the same user refuses to start, clearly.
	second := exec.Command(testenv.KysoBinary(t), "serve", "--config", a.Config)
	second.Env = a.Env
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
			first := testenv.WindowPID(t, display, testenv.WaitWindow(t, display, pinTitle))
			testenv.AnswerPIN(t, display, pinTitle, "000000")
			testenv.WaitOtherWindow(t, display, pinTitle, first)
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

	// Stopped like systemd/launchd stop it: exits 0, socket removed. (The
	// harness checks at cleanup that the PIN is in no output or file.)
	if _, err := os.Stat(a.Sock); err != nil {
		t.Errorf("socket while running: %v", err)
	}
	if err := a.Stop(); err != nil {
		t.Errorf("kyso serve after SIGTERM: %v", err)
	}
	if _, err := os.Stat(a.Sock); !os.IsNotExist(err) {
		t.Errorf("socket after stop: %v", err)
	}
	if a.Log() == "" {
		t.Error("no log file")
	}
}
