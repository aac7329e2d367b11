//go:build linux && cgo

package agent

// End-to-end over the real transports with the real engine, the real token
// layer on SoftHSM2 (and the fault module) and the scripted prompter:
// every operation and every error code a page can provoke.

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"kyso.vn/kyso/engine"
	"kyso.vn/kyso/internal/testenv"
	"kyso.vn/kyso/prompt/prompttest"
	"kyso.vn/kyso/protocol"
	"kyso.vn/kyso/token/pkcs11"
)

const portal = "https://dichvucong.gov.vn"

// watched is the real engine, reporting each request's end, so a test can
// see a cancelled operation return.
type watched struct {
	*engine.Engine
	done chan string // ids as Handle returns
}

func (w *watched) Handle(ctx context.Context, origin string, raw []byte, progress func([]byte)) []byte {
	resp := w.Engine.Handle(ctx, origin, raw, progress)
	select {
	case w.done <- requestID(raw):
	default:
	}
	return resp
}

type realSetup struct {
	*running
	tk  *testenv.Tokens
	pr  *prompttest.Prompter
	eng *watched
}

type realOpts struct {
	modules     []string // nil: SoftHSM
	noModules   bool
	userTimeout time.Duration
}

func startReal(t *testing.T, o realOpts) *realSetup {
	t.Helper()
	tk := testenv.Shared(t)
	dir := t.TempDir()
	paths := engine.Paths{
		System:    filepath.Join(dir, "etc", "policy.json"), // none
		User:      filepath.Join(dir, "config.json"),
		Approvals: filepath.Join(dir, "approvals.json"),
	}
	cfg := map[string]any{"allowedOrigins": []string{portal}, "userApproval": false}
	if err := os.WriteFile(paths.User, mustJSON(t, cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	mods := o.modules
	if mods == nil && !o.noModules {
		mods = []string{tk.Module}
	}
	log := zerolog.New(zerolog.NewTestWriter(t))
	pr := prompttest.New()
	e, err := engine.New(engine.Options{
		Provider:    pkcs11.New(pkcs11.Options{Modules: mods, NoDiscovery: true, Log: log}),
		Prompter:    pr,
		Paths:       paths,
		Log:         log,
		UserTimeout: o.userTimeout,
		Lang:        "en",
	})
	if err != nil {
		t.Fatal(err)
	}
	w := &watched{Engine: e, done: make(chan string, 100)}
	return &realSetup{running: start(t, w, Options{Lang: "en"}), tk: tk, pr: pr, eng: w}
}

// certID is the certificateId of a provisioned certificate.
func certID(t *testing.T, tk *testenv.Tokens, name string) string {
	der := certDER(t, tk, name)
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

func certDER(t *testing.T, tk *testenv.Tokens, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tk.Dir, name+".der"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func hashOf(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

func signParams(id string, hash []byte, scheme string) map[string]any {
	p := map[string]any{"certificateId": id, "hash": b64(hash), "hashFunction": "SHA-256", "description": "Tờ khai thử nghiệm"}
	if scheme != "" {
		p["scheme"] = scheme
	}
	return p
}

// verify checks a signature over a SHA-256 hash with Go crypto and with
// `openssl pkeyutl -verify`, independently of Kyso's code.
func verify(t *testing.T, tk *testenv.Tokens, name string, hash, sig []byte, scheme string) {
	t.Helper()
	cert, err := x509.ParseCertificate(certDER(t, tk, name))
	if err != nil {
		t.Fatal(err)
	}
	var opts []string
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		if scheme == "RSASSA-PSS" {
			err = rsa.VerifyPSS(pub, crypto.SHA256, hash, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
			opts = []string{"-pkeyopt", "rsa_padding_mode:pss", "-pkeyopt", "rsa_pss_saltlen:digest"}
		} else {
			err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, hash, sig)
		}
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, hash, sig) {
			err = fmt.Errorf("ECDSA signature does not verify")
		}
	}
	if err != nil {
		t.Fatalf("Go crypto: %s signature by %s: %v", scheme, name, err)
	}
	dir := t.TempDir()
	hf, sf := filepath.Join(dir, "hash"), filepath.Join(dir, "sig")
	os.WriteFile(hf, hash, 0o600)
	os.WriteFile(sf, sig, 0o600)
	args := append([]string{"pkeyutl", "-verify", "-certin", "-inkey", tk.CertFile(name),
		"-in", hf, "-sigfile", sf, "-pkeyopt", "digest:sha256"}, opts...)
	if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil || !strings.Contains(string(out), "Success") {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestRealOperations(t *testing.T) {
	s := startReal(t, realOpts{})
	rsaID := certID(t, s.tk, testenv.CertRSA)
	ecID := certID(t, s.tk, testenv.CertEC)

	// Each operation, once over the WebSocket and once over the local
	// socket with the origin in the envelope.
	ws := s.dial(t, portal)
	lc := s.dialLocal(t)
	transports := map[string]func(req any) response{
		"websocket": func(r any) response { return callWS(t, ws, r) },
		"local":     func(r any) response { return callLocal(t, lc, portal, r) },
	}
	for name, call := range transports {
		t.Run(name, func(t *testing.T) {
			resp := call(req("v", "version", nil))
			var v struct {
				Version  string
				Protocol int
			}
			if !resp.OK || json.Unmarshal(resp.Result, &v) != nil || v.Protocol != 1 || v.Version == "" {
				t.Fatalf("version: %+v %s", resp, resp.Result)
			}

			s.pr.OnPick(prompttest.Pick(0))
			resp = call(req("g", "getCertificate", map[string]any{}))
			var gc struct {
				Certificate   string
				CertificateID string
				Subject       string
				Token         struct{ Label string }
			}
			if !resp.OK || json.Unmarshal(resp.Result, &gc) != nil {
				t.Fatalf("getCertificate: %+v %s", resp, resp.Result)
			}
			der, _ := base64.StdEncoding.DecodeString(gc.Certificate)
			sum := sha256.Sum256(der)
			if gc.CertificateID != hex.EncodeToString(sum[:]) || gc.Token.Label == "" || gc.Subject == "" {
				t.Errorf("getCertificate result: %s", resp.Result)
			}

			for _, c := range []struct{ name, id, scheme string }{
				{testenv.CertRSA, rsaID, ""},
				{testenv.CertRSA, rsaID, "RSASSA-PSS"},
				{testenv.CertEC, ecID, ""},
			} {
				hash := hashOf("hồ sơ " + name + c.scheme)
				s.pr.OnPIN(prompttest.PIN(testenv.PIN))
				resp := call(req("s", "sign", signParams(c.id, hash, c.scheme)))
				var sr struct{ Signature, Scheme, HashFunction string }
				if !resp.OK || json.Unmarshal(resp.Result, &sr) != nil {
					t.Fatalf("sign %s %s: %+v", c.name, c.scheme, resp)
				}
				sig, _ := base64.StdEncoding.DecodeString(sr.Signature)
				verify(t, s.tk, c.name, hash, sig, sr.Scheme)
			}
			pins := s.pr.PINCalls()
			if last := pins[len(pins)-1]; last.Origin != portal || last.Description != "Tờ khai thử nghiệm" {
				t.Errorf("PIN dialog: %+v", last)
			}

			hashes := []string{}
			raw := [][]byte{}
			for i := range 3 {
				h := hashOf(fmt.Sprint("văn bản ", i))
				raw = append(raw, h)
				hashes = append(hashes, b64(h))
			}
			p := signParams(ecID, nil, "")
			delete(p, "hash")
			p["hashes"] = hashes
			s.pr.OnPIN(prompttest.PIN(testenv.PIN))
			resp = call(req("b", "signBatch", p))
			var br struct{ Signatures []string }
			if !resp.OK || json.Unmarshal(resp.Result, &br) != nil || len(br.Signatures) != 3 {
				t.Fatalf("signBatch: %+v %s", resp, resp.Result)
			}
			for i, sg := range br.Signatures {
				sig, _ := base64.StdEncoding.DecodeString(sg)
				verify(t, s.tk, testenv.CertEC, raw[i], sig, "ECDSA")
			}
		})
	}
}

func TestRealErrors(t *testing.T) {
	s := startReal(t, realOpts{userTimeout: 300 * time.Millisecond})
	rsaID := certID(t, s.tk, testenv.CertRSA)
	ecID := certID(t, s.tk, testenv.CertEC)
	ws := s.dial(t, portal)
	lc := s.dialLocal(t)
	hash := hashOf("x")

	check := func(what string, resp response, id string, code protocol.Code) {
		t.Helper()
		if resp.OK || resp.Code() != code || resp.ID != id || resp.Error.Message == "" {
			t.Errorf("%s: %+v, want %s with id %q", what, resp, code, id)
		}
	}
	send := func(raw string) response {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(raw)); err != nil {
			t.Fatal(err)
		}
		return readWS(t, ws)
	}
	check("not JSON", send(`{"id":`), "", "BAD_REQUEST")
	check("wrong types", send(`{"id":"t","op":5}`), "t", "BAD_REQUEST")
	if err := ws.WriteMessage(websocket.BinaryMessage, []byte(`{"id":"v","op":"version"}`)); err != nil {
		t.Fatal(err)
	}
	check("binary frame", readWS(t, ws), "", "BAD_REQUEST")
	bad := signParams(rsaID, hash[:31], "")
	check("short hash", callWS(t, ws, req("h", "sign", bad)), "h", "BAD_REQUEST")
	check("unknown op", callWS(t, ws, req("u", "launchMissiles", nil)), "u", "UNKNOWN_OP")
	check("unknown certificate", callWS(t, ws, req("c", "sign", signParams(strings.Repeat("ab", 32), hash, ""))), "c", "CERTIFICATE_NOT_FOUND")
	check("PSS on an EC key", callWS(t, ws, req("a", "sign", signParams(ecID, hash, "RSASSA-PSS"))), "a", "UNSUPPORTED_ALGORITHM")

	// Origins the WebSocket refuses at the handshake are ORIGIN_DENIED
	// on the local socket.
	for _, o := range []string{"https://evil.example", "", "null", "http://dichvucong.gov.vn"} {
		check("origin "+o, callLocal(t, lc, o, req("o", "version", nil)), "o", "ORIGIN_DENIED")
		if o != "" {
			if got := s.status(t, s.url(), o, ""); got != http.StatusForbidden {
				t.Errorf("WebSocket handshake from %q: HTTP %d, want 403", o, got)
			}
		}
	}

	s.pr.OnPIN(prompttest.Cancel())
	check("PIN dialog cancelled", callWS(t, ws, req("x", "sign", signParams(rsaID, hash, ""))), "x", "USER_CANCELLED")

	s.pr.OnPIN(prompttest.Block())
	check("nobody answers", callWS(t, ws, req("t", "sign", signParams(rsaID, hash, ""))), "t", "TIMEOUT")

	// BUSY: one dialog at a time, across connections.
	shown := make(chan prompttest.Call, 1)
	s.pr.Shown = shown
	s.pr.OnPIN(prompttest.Block())
	ws2 := s.dial(t, portal)
	if err := ws2.WriteMessage(websocket.TextMessage, mustJSON(t, req("first", "sign", signParams(rsaID, hash, "")))); err != nil {
		t.Fatal(err)
	}
	<-shown
	s.pr.Shown = nil
	check("second dialog", callWS(t, ws, req("second", "sign", signParams(rsaID, hash, ""))), "second", "BUSY")
	check("first, timed out", readWS(t, ws2), "first", "TIMEOUT")

	// RATE_LIMITED: 3 declined prompts within 60 s — the cancel and the
	// two time-outs above: a dialog that times out counts as declined, so
	// a page looping on time-outs cannot hold the one-dialog lock forever
	// (SECURITY.md, finding 5).
	check("fourth ask", callWS(t, ws, req("r2", "sign", signParams(rsaID, hash, ""))), "r2", "RATE_LIMITED")
}

func TestRealNoToken(t *testing.T) {
	s := startReal(t, realOpts{noModules: true})
	ws := s.dial(t, portal)
	// The plug-in window opens (a driver may be installed meanwhile);
	// cancelled, NO_TOKEN.
	s.pr.On(prompttest.KindPlugIn, prompttest.Cancel())
	resp := callWS(t, ws, req("n", "getCertificate", map[string]any{}))
	if resp.Code() != "NO_TOKEN" || s.pr.Count(prompttest.KindPlugIn) != 1 {
		t.Fatalf("getCertificate without a module: %+v", resp)
	}
}

func TestRealTokenFaults(t *testing.T) {
	tk := testenv.Shared(t)
	f := testenv.NewFault(t)
	t.Cleanup(f.Reset)
	s := startReal(t, realOpts{modules: []string{testenv.FaultModule(t)}})
	ecID := certID(t, tk, testenv.CertEC)
	ws := s.dial(t, portal)
	hash := hashOf("y")

	// Three wrong PINs lock it: the dialog reopens with the tries left,
	// then the page gets PIN_LOCKED.
	f.Set("lock_after=3")
	s.pr.OnPIN(prompttest.PIN("999999"), prompttest.PIN("999998"), prompttest.PIN("999997"))
	resp := callWS(t, ws, req("l", "sign", signParams(ecID, hash, "")))
	if resp.Code() != "PIN_LOCKED" {
		t.Fatalf("after three wrong PINs: %+v", resp)
	}
	pins := s.pr.PINCalls()
	if len(pins) != 3 || !pins[1].Retry || !pins[2].FinalTry {
		t.Errorf("PIN dialogs: %+v", pins)
	}
	// A good PIN once unlocked clears SoftHSM's own wrong-PIN count.
	f.Reset()
	s.pr.OnPIN(prompttest.PIN(testenv.PIN))
	if resp := callWS(t, ws, req("ok", "sign", signParams(ecID, hash, ""))); !resp.OK {
		t.Fatalf("after unlock: %+v", resp)
	}

	// Pulled out while signing: TOKEN_REMOVED, and the agent goes on.
	f.Set("remove_on_sign=1")
	s.pr.OnPIN(prompttest.PIN(testenv.PIN))
	if resp := callWS(t, ws, req("rm", "sign", signParams(ecID, hash, ""))); resp.Code() != "TOKEN_REMOVED" {
		t.Fatalf("removed mid-sign: %+v", resp)
	}
	f.Reset()
	s.pr.OnPIN(prompttest.PIN(testenv.PIN))
	resp = callWS(t, ws, req("back", "sign", signParams(ecID, hash, "")))
	if !resp.OK {
		t.Fatalf("plugged back in: %+v", resp)
	}
	var sr struct{ Signature string }
	json.Unmarshal(resp.Result, &sr)
	sig, _ := base64.StdEncoding.DecodeString(sr.Signature)
	verify(t, tk, testenv.CertEC, hash, sig, "ECDSA")
}

// Closing the connection while the PIN dialog is open cancels the
// operation: the dialog's ctx ends and the engine returns.
func TestRealCloseMidDialog(t *testing.T) {
	s := startReal(t, realOpts{})
	rsaID := certID(t, s.tk, testenv.CertRSA)
	for _, tr := range []string{"websocket", "local"} {
		shown := make(chan prompttest.Call, 1)
		s.pr.Shown = shown
		s.pr.OnPIN(prompttest.Block())
		id := "close-" + tr
		r := req(id, "sign", signParams(rsaID, hashOf(tr), ""))
		var closer func()
		if tr == "websocket" {
			c := s.dial(t, portal)
			if err := c.WriteMessage(websocket.TextMessage, mustJSON(t, r)); err != nil {
				t.Fatal(err)
			}
			closer = func() { c.Close() }
		} else {
			c := s.dialLocal(t)
			if err := sendLocal(t, c, portal, r); err != nil {
				t.Fatal(err)
			}
			closer = func() { c.Close() }
		}
		if call := <-shown; call.Kind != "pin" || call.Origin != portal {
			t.Fatalf("%s: dialog %+v", tr, call)
		}
		s.pr.Shown = nil
		closer()
		// The engine timeout is the default 120 s: returning here means
		// the close cancelled the blocked dialog.
		if got := <-s.eng.done; got != id {
			t.Fatalf("%s: returned %q", tr, got)
		}
	}
	// The agent is free again for the next page.
	s.pr.OnPIN(prompttest.PIN(testenv.PIN))
	if resp := callWS(t, s.dial(t, portal), req("after", "sign", signParams(rsaID, hashOf("a"), ""))); !resp.OK {
		t.Fatalf("after the cancelled dialogs: %+v", resp)
	}
}
