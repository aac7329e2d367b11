//go:build linux && cgo

package security

// Real tokens, through the shipped binary with its real dialogs under Xvfb
// (issue 15): the fault PKCS#11 module makes the suite's SoftHSM tokens as
// slow as a USB token, absent until plugged in, PIN-pad tokens, faulty and
// hanging ones — what SoftHSM alone cannot be (testdata/README.md). Each test
// runs its own agent, display and fault control, in parallel with the
// others.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kyso.vn/kyso/internal/frame"
	"kyso.vn/kyso/internal/testenv"
)

// A batch of 1000 hashes on a token taking 0.13 s per signature (over two
// minutes, longer than any dialog may wait) completes: every signature
// verified (Go crypto, openssl for a sample), the progress window shown and
// closed, progress messages seen by the page — a few per second at most,
// done never going back, all before the answer.
func TestLongBatch(t *testing.T) {
	t.Parallel()
	hs := hashes("batch", 1000)
	_, _, display, c := slowBatch(t, "lô-1000", hs)
	defer c.Close()
	start := time.Now()
	screenshot(t, display, progressTitle, "progress")
	progress, r := readUntilAnswer(t, c, 30*time.Second)
	took := time.Since(start)
	verifyBatch(t, r, hs, 10)
	if took < 130*time.Second {
		t.Fatalf("1000 signatures at 0.13 s took only %v: the delay did not apply", took)
	}
	if len(progress) < 20 {
		t.Fatalf("%d progress messages in %v", len(progress), took)
	}
	last := -1
	for i, m := range progress {
		if m.ID != "lô-1000" || m.Progress.Total != 1000 || m.Progress.Done < last || m.Progress.Done > 1000 {
			t.Fatalf("progress message %d: %+v after done %d", i, m, last)
		}
		last = m.Progress.Done
	}
	// A few per second at most (every 250 ms; one second of slack).
	if perSecond := float64(len(progress)) / (took.Seconds() - 1); perSecond > 5 {
		t.Fatalf("%d progress messages in %v: %.1f a second", len(progress), took, perSecond)
	}
	testenv.WaitNoWindow(t, display, progressTitle)
	t.Logf("1000 signatures in %v, %d progress messages", took, len(progress))
}

// Cancel in the progress window stops the batch at the next signature:
// USER_CANCELLED, no signature, the window closed; the agent signs again.
func TestCancelInProgressWindow(t *testing.T) {
	t.Parallel()
	a, f, display, c := slowBatch(t, "cancel-me", hashes("cancel", 300))
	defer c.Close()
	screenshot(t, display, progressTitle, "progress")
	testenv.Cancel(t, display, progressTitle)
	_, r := readUntilAnswer(t, c, 30*time.Second)
	if r.Code() != "USER_CANCELLED" || r.Result != nil {
		t.Fatalf("cancelled in the window: %+v", r)
	}
	testenv.WaitNoWindow(t, display, progressTitle)
	f.SetSignDelay(0)
	if r := signWithPIN(t, a, display, portal, "after"); !r.OK {
		t.Fatalf("after the cancel: %+v", r.Error)
	}
}

// The page closing its connection cancels the batch as well: the progress
// window closes, the agent logs USER_CANCELLED, and signs again.
func TestCancelByClosingPage(t *testing.T) {
	t.Parallel()
	a, f, display, c := slowBatch(t, "closed", hashes("closed", 300))
	testenv.WaitWindow(t, display, progressTitle)
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, _, err := c.ReadMessage(); err != nil { // a progress message: the page sees it go
		t.Fatal(err)
	}
	c.Close()
	testenv.WaitNoWindow(t, display, progressTitle)
	agentLog(t, a, `"id":"closed"`, `"outcome":"USER_CANCELLED"`)
	f.SetSignDelay(0)
	if r := signWithPIN(t, a, display, portal, "after"); !r.OK {
		t.Fatalf("after the page went away: %+v", r.Error)
	}
}

// No token when the page asks: the plug-in window names the origin, and the
// request goes on by itself as soon as the token is plugged in — the PIN
// dialog follows, no second click, no retry by the page. Cancelled, the
// window answers NO_TOKEN.
func TestPlugInWhileWaiting(t *testing.T) {
	t.Parallel()
	a, f, display := tokenAgent(t, nil)
	f.PlugInAfter(5 * time.Second)
	c, _, err := a.Dial(portal)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	send(t, c, req("plug", "sign", signParams(certID(t, testenv.CertRSA), hashOf("plug"))))
	screenshot(t, display, plugInTitle, "plug-in")
	// Nothing more to do than plug in (the fault module does it after 5 s).
	testenv.AnswerPIN(t, display, pinTitle, suitePIN)
	if r := read(t, c); !r.OK {
		t.Fatalf("sign after plugging in: %+v", r.Error)
	}
	testenv.WaitNoWindow(t, display, plugInTitle)

	f.Unplug()
	send(t, c, req("never", "sign", signParams(certID(t, testenv.CertRSA), hashOf("never"))))
	testenv.WaitWindow(t, display, plugInTitle)
	testenv.Cancel(t, display, plugInTitle)
	if r := read(t, c); r.Code() != "NO_TOKEN" {
		t.Fatalf("plug-in window cancelled: %+v", r)
	}
	testenv.WaitNoWindow(t, display, plugInTitle)
}

// A PIN-pad token: the window says to enter the PIN on the reader while
// C_Login(NULL) waits for the pad; no PIN dialog. A wrong PIN on the pad
// opens the window again; a lockout is PIN_LOCKED; Cancel on the pad is
// USER_CANCELLED.
func TestPINPadToken(t *testing.T) {
	t.Parallel()
	a, f, display := tokenAgent(t, nil)
	c, _, err := a.Dial(portal)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sign := func(id string) {
		send(t, c, req(id, "sign", signParams(certID(t, testenv.CertRSA), hashOf(id))))
	}

	f.PINPadWith(testenv.PadOK, 4*time.Second, suitePIN)
	sign("pad-ok")
	screenshot(t, display, padTitle, "pin-pad")
	if r := read(t, c); !r.OK {
		t.Fatalf("PIN pad: %+v", r.Error)
	}
	testenv.WaitNoWindow(t, display, padTitle)
	if testenv.HasWindow(t, display, pinTitle) {
		t.Fatal("a PIN dialog on a PIN-pad token")
	}

	// Wrong on the pad: the window comes back (another zenity), then the
	// person types the right PIN.
	f.PINPadWith(testenv.PadWrong, 2*time.Second, suitePIN)
	sign("pad-wrong")
	first := testenv.WindowPID(t, display, testenv.WaitWindow(t, display, padTitle))
	testenv.WaitOtherWindow(t, display, padTitle, first)
	f.PINPadWith(testenv.PadOK, 2*time.Second, suitePIN)
	if r := read(t, c); !r.OK {
		t.Fatalf("PIN pad, wrong then right: %+v", r.Error)
	}

	f.PINPadWith(testenv.PadCancel, time.Second, suitePIN)
	sign("pad-cancel")
	if r := read(t, c); r.Code() != "USER_CANCELLED" {
		t.Fatalf("Cancel on the pad: %+v", r)
	}
	f.PINPadWith(testenv.PadLocked, time.Second, suitePIN)
	sign("pad-locked")
	if r := read(t, c); r.Code() != "PIN_LOCKED" {
		t.Fatalf("locked on the pad: %+v", r)
	}
	testenv.WaitNoWindow(t, display, padTitle)
}

// A faulty signature (one bit flipped, as by a fault in the token's RSA-CRT)
// never leaves the agent: TOKEN_ERROR with detail SIGNATURE_INVALID, no
// signature in the answer or the log; the next signature is good.
func TestFaultySignature(t *testing.T) {
	t.Parallel()
	a, f, display := tokenAgent(t, nil)
	f.FaultySignatures(1)
	r := signWithPIN(t, a, display, portal, "faulty")
	if r.Code() != "TOKEN_ERROR" || r.Error.Detail != "SIGNATURE_INVALID" || r.Result != nil {
		t.Fatalf("faulty signature: %+v", r)
	}
	if !strings.Contains(a.Log(), "does not verify") {
		t.Errorf("the log does not say why:\n%s", a.Log())
	}
	if r := signWithPIN(t, a, display, portal, "good"); !r.OK {
		t.Fatalf("after the faulty one: %+v", r.Error)
	}
}

// A token that hangs inside C_Sign does not hang the agent: the progress
// window's Cancel ends the operation; meanwhile other pages get BUSY (the
// one-dialog gate stays taken until the stuck call returns) and version is
// served; once the token comes back the next request works.
func TestHangingTokenBinary(t *testing.T) {
	t.Parallel()
	a, f, display := tokenAgent(t, nil)
	f.Hang("C_Sign")
	c, _, err := a.Dial(portal)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	send(t, c, req("hung", "sign", signParams(certID(t, testenv.CertRSA), hashOf("hung"))))
	testenv.AnswerPIN(t, display, pinTitle, suitePIN)
	f.WaitHung(t, 1, 60*time.Second)
	testenv.WaitWindow(t, display, progressTitle)

	c2, _, err := a.Dial(other)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if r := call(t, c2, req("busy", "sign", signParams(certID(t, testenv.CertRSA), hashOf("busy")))); r.Code() != "BUSY" {
		t.Fatalf("another page while the token hangs: %+v", r)
	}
	if r := call(t, c2, req("v", "version", nil)); !r.OK {
		t.Fatalf("version while the token hangs: %+v", r)
	}

	testenv.Cancel(t, display, progressTitle)
	if _, r := readUntilAnswer(t, c, 60*time.Second); r.Code() != "USER_CANCELLED" {
		t.Fatalf("cancelled while the token hangs: %+v", r)
	}
	testenv.WaitNoWindow(t, display, progressTitle)
	if f.Hung() != 1 {
		t.Fatalf("%d calls hung", f.Hung())
	}
	if r := call(t, c2, req("still", "sign", signParams(certID(t, testenv.CertRSA), hashOf("still")))); r.Code() != "BUSY" {
		t.Fatalf("while the call is still stuck: %+v", r)
	}

	f.Release()
	for end := time.Now().Add(60 * time.Second); f.Hung() > 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the stuck call never returned")
		}
	}
	agentLog(t, a, "the call into the token the operation stopped waiting for has returned")
	if r := signWithPIN(t, a, display, other, "after"); !r.OK {
		t.Fatalf("after the token came back: %+v", r.Error)
	}
}

// The native-messaging path tells the page the progress too: `kyso host`
// passes the agent's progress messages on (the local socket's progress
// frames), and, run with no agent, sends its own engine's — each before
// the answer, as the browser reads them.
func TestProgressOverNativeMessaging(t *testing.T) {
	t.Parallel()
	a, f, display := tokenAgent(t, nil)
	f.SetSignDelay(130 * time.Millisecond)
	for _, relayed := range []bool{true, false} {
		env := a.Env
		if !relayed {
			// No agent in this runtime dir: the host runs the engine itself,
			// on the same config (its default place) and tokens.
			run := filepath.Join(a.Home, "run-host")
			cfg := filepath.Join(a.Home, "config", "kyso", "config.json")
			b, _ := os.ReadFile(a.Config)
			if err := os.MkdirAll(run, 0o700); err != nil || os.MkdirAll(filepath.Dir(cfg), 0o700) != nil || os.WriteFile(cfg, b, 0o600) != nil {
				t.Fatal("setting up the in-process host")
			}
			env = append(append([]string(nil), a.Env...), "XDG_RUNTIME_DIR="+run)
		}
		host := exec.Command(testenv.KysoBinary(t), "chrome-extension://iglbldmcmaeofmnfneeicieiklknbhdi/")
		host.Env = env
		in, _ := host.StdinPipe()
		out, _ := host.StdoutPipe()
		var stderr strings.Builder
		host.Stderr = &stderr
		if err := host.Start(); err != nil {
			t.Fatal(err)
		}
		hs := hashes("native", 25)
		msg, _ := json.Marshal(map[string]any{"origin": portal, "request": req("nm", "signBatch", batchParams(certID(t, testenv.CertRSA), hs))})
		if err := frame.Write(in, msg); err != nil {
			t.Fatal(err)
		}
		testenv.AnswerPIN(t, display, pinTitle, suitePIN)
		var progress int
		var r response
		for {
			b, err := frame.Read(out, frame.Max)
			if err != nil {
				t.Fatalf("relayed %v: reading the host after %d progress messages: %v\n%s", relayed, progress, err, stderr.String())
			}
			var m message
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("host frame %q: %v", b, err)
			}
			if m.Progress == nil {
				r = m.Response
				break
			}
			if m.ID != "nm" || m.Progress.Total != 25 {
				t.Fatalf("progress frame %s", b)
			}
			progress++
		}
		verifyBatch(t, r, hs, 3)
		if progress == 0 {
			t.Fatalf("relayed %v: no progress message before the answer", relayed)
		}
		in.Close()
		host.Wait()
		t.Logf("relayed %v: %d progress messages", relayed, progress)
	}
}
