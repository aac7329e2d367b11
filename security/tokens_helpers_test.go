//go:build linux && cgo

package security

import (
	"crypto"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"kyso.vn/kyso/internal/testenv"
	"kyso.vn/kyso/protocol"
)

// Titles of the windows of the signing flow, in Vietnamese (the agents run
// with LANGUAGE=vi): the progress window, the plug-in window, the PIN pad
// window (its title contains PIN, as the PIN dialog's) and the
// confirmation (its title does not).
const (
	progressTitle = "^Kyso — Đang ký số$"
	plugInTitle   = "^Kyso — Cắm token USB$"
	padTitle      = "^Kyso — Nhập mã PIN trên đầu đọc$"
	confirmTitle  = "^Kyso — Xác nhận ký số$"
	consentTitle  = "^Kyso — Cho phép trang web\\?$"
)

// tokenAgent starts the shipped agent on a display of its own with the
// fault module wrapping the suite's SoftHSM tokens as its only token module
// (the SoftHSM p11-kit registers is skipped, so a token the fault module
// pulls out is out), the fault's control in the agent's environment only:
// safe for parallel tests. cfg adds to the config; tweak changes the
// agent's options.
func tokenAgent(t *testing.T, cfg map[string]any, tweak ...func(*testenv.AgentOptions)) (*testenv.Agent, *testenv.Fault, string) {
	t.Helper()
	tk := tokens(t)
	display := testenv.Display(t)
	f := testenv.NewFaultEnv(t)
	c := map[string]any{
		"allowedOrigins": []string{portal, other},
		"modules":        []string{testenv.FaultModule(t)},
	}
	for k, v := range cfg {
		c[k] = v
	}
	o := testenv.AgentOptions{Tokens: tk, Display: display, Config: c, Env: f.Env(),
		SkipModules: []string{testenv.SoftHSMReal(t)}}
	for _, tw := range tweak {
		tw(&o)
	}
	return testenv.StartAgent(t, o), f, display
}

// slowBatch starts an agent whose token takes 0.13 s a signature, sends a
// signBatch of hs on a connection of portal, and types the PIN.
func slowBatch(t *testing.T, id string, hs [][]byte) (*testenv.Agent, *testenv.Fault, string, *websocket.Conn) {
	t.Helper()
	a, f, display := tokenAgent(t, nil)
	f.SetSignDelay(130 * time.Millisecond)
	c, _, err := a.Dial(portal)
	if err != nil {
		t.Fatal(err)
	}
	send(t, c, req(id, "signBatch", batchParams(certID(t, testenv.CertRSA), hs)))
	testenv.AnswerPIN(t, display, pinTitle, suitePIN)
	return a, f, display, c
}

// send writes one request on c.
func send(t testing.TB, c *websocket.Conn, r any) {
	t.Helper()
	b, _ := json.Marshal(r)
	c.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if err := c.WriteMessage(websocket.TextMessage, b); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// message is what a page reads: a progress message or the response.
type message struct {
	protocol.Response
	Progress *protocol.Count `json:"progress"`
	at       time.Time
}

// readUntilAnswer reads progress messages until the response, each within
// limit of the one before.
func readUntilAnswer(t testing.TB, c *websocket.Conn, limit time.Duration) (progress []message, resp response) {
	t.Helper()
	for {
		c.SetReadDeadline(time.Now().Add(limit))
		_, b, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("read after %d progress messages: %v", len(progress), err)
		}
		var m message
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("message %q: %v", b, err)
		}
		m.at = time.Now()
		if m.Progress == nil {
			return progress, m.Response
		}
		progress = append(progress, m)
	}
}

// hashes returns n distinct SHA-256 hashes.
func hashes(prefix string, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = hashOf(fmt.Sprintf("%s %d", prefix, i))
	}
	return out
}

func batchParams(certID string, hs [][]byte) map[string]any {
	b64 := make([]string, len(hs))
	for i, h := range hs {
		b64[i] = base64.StdEncoding.EncodeToString(h)
	}
	return map[string]any{"certificateId": certID, "hashes": b64, "hashFunction": "SHA-256",
		"description": fmt.Sprintf("Lô %d hồ sơ nộp thuế", len(hs))}
}

// verifyBatch checks every signature of a signBatch result with Go's crypto
// against the RSA test certificate, and a sample with openssl.
func verifyBatch(t *testing.T, r response, hs [][]byte, sample int) {
	t.Helper()
	var res struct{ Signatures []string }
	if !r.OK || json.Unmarshal(r.Result, &res) != nil || len(res.Signatures) != len(hs) {
		t.Fatalf("batch: %+v", r.Error)
	}
	c := cert(t, testenv.CertRSA)
	pub := c.PublicKey.(*rsa.PublicKey)
	for i, s := range res.Signatures {
		sig, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("signature %d: %v", i, err)
		}
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, hs[i], sig); err != nil {
			t.Fatalf("signature %d of %d does not verify: %v", i+1, len(hs), err)
		}
		if i%max(len(hs)/sample, 1) == 0 {
			opensslVerify(t, hs[i], sig)
		}
	}
}

// opensslVerify checks one PKCS#1 v1.5 SHA-256 signature over hash with
// openssl and the RSA test certificate.
func opensslVerify(t *testing.T, hash, sig []byte) {
	t.Helper()
	dir := t.TempDir()
	pub := filepath.Join(dir, "pub.pem")
	if out, err := exec.Command("openssl", "x509", "-in", tokens(t).CertFile(testenv.CertRSA), "-pubkey", "-noout", "-out", pub).CombinedOutput(); err != nil {
		t.Fatalf("openssl x509: %v %s", err, out)
	}
	h, s := filepath.Join(dir, "hash"), filepath.Join(dir, "sig")
	os.WriteFile(h, hash, 0o600)
	os.WriteFile(s, sig, 0o600)
	out, err := exec.Command("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pub, "-in", h, "-sigfile", s,
		"-pkeyopt", "digest:sha256").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Signature Verified Successfully") {
		t.Fatalf("openssl pkeyutl -verify: %v %s", err, out)
	}
}

// screenshot saves the window titled title, once drawn, to name.png among
// the test's artifacts (go test -artifacts keeps them; docs/dialogs.md
// shows them).
func screenshot(t *testing.T, display, title, name string) {
	t.Helper()
	id := testenv.WaitWindow(t, display, title)
	testenv.Xdotool(t, display, "mousemove", "0", "0") // the pointer out of the window
	time.Sleep(700 * time.Millisecond)                 // let GTK draw; nothing is asserted on the picture
	full := filepath.Join(t.TempDir(), "screen.png")
	testenv.Screenshot(t, display, full)
	var x, y, w, h int
	for _, l := range strings.Fields(testenv.Xdotool(t, display, "getwindowgeometry", "--shell", id)) {
		k, v, _ := strings.Cut(l, "=")
		n, _ := strconv.Atoi(v)
		switch k {
		case "X":
			x = n
		case "Y":
			y = n
		case "WIDTH":
			w = n
		case "HEIGHT":
			h = n
		}
	}
	f, err := os.Open(full)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	sub := img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(x, y, x+w, y+h))
	out, err := os.Create(filepath.Join(t.ArtifactDir(), name+".png"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if err := png.Encode(out, sub); err != nil {
		t.Fatal(err)
	}
}

// agentLog waits until the agent's log has a line with every one of
// want's strings, and fails the test when it does not come.
func agentLog(t *testing.T, a *testenv.Agent, want ...string) {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		for _, l := range strings.Split(a.Log(), "\n") {
			all := true
			for _, w := range want {
				all = all && strings.Contains(l, w)
			}
			if all {
				return
			}
		}
		if time.Now().After(end) {
			t.Fatalf("no log line with %q:\n%s", want, a.Log())
		}
	}
}

// signWithPIN sends a sign request on a fresh connection of origin, types
// the suite's PIN into the real PIN dialog and returns the answer.
func signWithPIN(t *testing.T, a *testenv.Agent, display, origin, id string) response {
	t.Helper()
	c, _, err := a.Dial(origin)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	send(t, c, req(id, "sign", signParams(certID(t, testenv.CertRSA), hashOf(id))))
	testenv.AnswerPIN(t, display, pinTitle, suitePIN)
	return read(t, c)
}
