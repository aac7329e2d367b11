//go:build linux && cgo

// Package security is Kyso's hostile-input, fault and load suite: every test
// runs the shipped binary (`kyso serve`) on SoftHSM2 tokens whose PIN no log
// line could hold by chance, attacks it the way SECURITY.md's threat table
// says, then checks that a normal signature still works, that the agent's
// goroutines and memory came back, and that the PIN is in no output or file.
package security

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net"
	"os"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"kyso.vn/kyso/internal/frame"
	"kyso.vn/kyso/internal/testenv"
	"kyso.vn/kyso/internal/wire"
	"kyso.vn/kyso/protocol"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// suitePIN is the PIN of the suite's private tokens: distinctive, so that
// finding it anywhere is a leak and never a coincidence.
const suitePIN = "Kyso-PIN-4f7Qz"

// portal is allowed by every agent the suite starts; other is allowed too,
// to show one origin's abuse does not starve another's page.
const (
	portal = "https://dichvucong.gov.vn"
	other  = "https://congvan.hanoi.gov.vn"
)

// tokens returns the suite's private token set (made once per process).
var tokens = testenv.SuiteTokens(suitePIN)

// startAgent runs the shipped binary with the suite's tokens, both portals
// allowed, and the extra config keys in cfg.
func startAgent(t testing.TB, display string, cfg map[string]any) *testenv.Agent {
	t.Helper()
	tk := tokens(t)
	c := map[string]any{
		"allowedOrigins": []string{portal, other},
		"modules":        []string{tk.Module},
	}
	for k, v := range cfg {
		c[k] = v
	}
	return testenv.StartAgent(t, testenv.AgentOptions{Tokens: tk, Display: display, Config: c})
}

// response is a protocol v1 response as a page reads it.
type response = protocol.Response

func req(id, op string, params any) map[string]any {
	m := map[string]any{"id": id, "op": op}
	if params != nil {
		m["params"] = params
	}
	return m
}

func signParams(certID string, hash []byte) map[string]any {
	return map[string]any{"certificateId": certID, "hash": base64.StdEncoding.EncodeToString(hash), "hashFunction": "SHA-256"}
}

func hashOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// certID is the protocol's certificateId of a test certificate.
func certID(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(tokens(t).CertFile(name))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM", name)
	}
	sum := sha256.Sum256(blk.Bytes)
	return hex.EncodeToString(sum[:])
}

func cert(t testing.TB, name string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(tokens(t).CertFile(name))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// call sends one request over a WebSocket and reads one response.
func call(t testing.TB, c *websocket.Conn, r any) response {
	t.Helper()
	b, _ := json.Marshal(r)
	c.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if err := c.WriteMessage(websocket.TextMessage, b); err != nil {
		t.Fatalf("write: %v", err)
	}
	return read(t, c)
}

func read(t testing.TB, c *websocket.Conn) response {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(150 * time.Second))
	_, b, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var r response
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("response %q: %v", b, err)
	}
	return r
}

// Stats is what the agent reports about itself on its user-only local
// socket (`kyso status` prints the same).
type Stats struct {
	Goroutines  int    `json:"goroutines"`
	HeapInUse   uint64 `json:"heapInUse"`
	RSS         uint64 `json:"rss"`
	Connections struct {
		WebSocket int `json:"websocket"`
		Local     int `json:"local"`
	} `json:"connections"`
}

// stats asks the agent for its Stats over the local socket.
func stats(t testing.TB, a *testenv.Agent) Stats {
	t.Helper()
	m := askLocal(t, a, wire.Message{Kind: wire.Stats, Tag: 1})
	var s Stats
	if err := json.Unmarshal(m.Body, &s); err != nil {
		t.Fatalf("stats %q: %v", m.Body, err)
	}
	return s
}

// askLocal sends m on the agent's local socket, as `kyso status` or the
// extension's host does, and returns the answer to it.
func askLocal(t testing.TB, a *testenv.Agent, m wire.Message) wire.Message {
	t.Helper()
	c, err := net.DialTimeout("unix", a.Sock, 10*time.Second)
	if err != nil {
		t.Fatalf("local socket: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	if err := frame.Write(c, wire.Append(nil, m)); err != nil {
		t.Fatal(err)
	}
	b, err := frame.Read(c, wire.MaxFrame)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	ans, err := wire.Parse(b)
	if err != nil || ans.Kind != wire.Answer || ans.Tag != m.Tag {
		t.Fatalf("answer %q: %v", b, err)
	}
	return ans
}

// settled waits until the agent is back to its baseline: no more goroutines
// than base had (a few of slack for the runtime's own), and heap in use at
// most base's plus 8 MiB (the agent collects garbage before it answers
// agentStats). It fails the test when that never happens within a minute:
// that is a leak.
func settled(t testing.TB, a *testenv.Agent, base Stats) Stats {
	t.Helper()
	const slackG, slackHeap = 3, 8 << 20
	var s Stats
	for deadline := time.Now().Add(time.Minute); ; {
		s = stats(t, a)
		if s.Goroutines <= base.Goroutines+slackG && s.HeapInUse <= base.HeapInUse+slackHeap {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent did not return to its baseline: %+v, baseline %+v", s, base)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// pinTitle finds the PIN dialog: its title begins with "Kyso" and contains
// "PIN" (DESIGN, rules that hold everywhere).
const pinTitle = "^Kyso.*PIN"

// signOK signs one hash as origin with the RSA test key, types the PIN into
// the real dialog on display like a person, and verifies the signature with
// Go's crypto against the certificate: the agent still does its job.
func signOK(t testing.TB, a *testenv.Agent, display, origin string) {
	t.Helper()
	c, _, err := a.Dial(origin)
	if err != nil {
		t.Fatalf("dial as %s: %v", origin, err)
	}
	defer c.Close()
	hash := hashOf("still works " + time.Now().String())
	b, _ := json.Marshal(req("ok", "sign", signParams(certID(t, testenv.CertRSA), hash)))
	if err := c.WriteMessage(websocket.TextMessage, b); err != nil {
		t.Fatal(err)
	}
	testenv.AnswerPIN(t, display, pinTitle, suitePIN)
	r := read(t, c)
	var res struct{ Signature string }
	if !r.OK || json.Unmarshal(r.Result, &res) != nil {
		t.Fatalf("sign after the attack: %+v", r)
	}
	sig, _ := base64.StdEncoding.DecodeString(res.Signature)
	pub := cert(t, testenv.CertRSA).PublicKey.(*rsa.PublicKey)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, hash, sig); err != nil {
		t.Fatalf("signature after the attack does not verify: %v", err)
	}
}

// attack starts an agent to attack, on a display of its own for its
// dialogs, and takes its baseline (goroutines, memory) before the attack.
func attack(t *testing.T, cfg map[string]any) (*testenv.Agent, string, Stats) {
	t.Helper()
	display := testenv.Display(t)
	a := startAgent(t, display, cfg)
	return a, display, stats(t, a)
}

// recovered checks what must hold after every attack: the agent is back to
// its baseline, still signs for origin (the real PIN dialog, verified), and
// is back to its baseline after that too.
func recovered(t *testing.T, a *testenv.Agent, display string, base Stats, origin string) {
	t.Helper()
	settled(t, a, base)
	signOK(t, a, display, origin)
	settled(t, a, base)
}
