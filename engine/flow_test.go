package engine

import (
	"context"
	"crypto"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"kyso.vn/kyso/document"
	"kyso.vn/kyso/prompt"
	"kyso.vn/kyso/prompt/prompttest"
	"kyso.vn/kyso/protocol"
	"kyso.vn/kyso/token"
)

// The signing flow with the Go-crypto provider (fake_test.go) playing a
// real token's ways: slow, absent then plugged in, with a PIN pad, faulty,
// hanging. The same flows run through the shipped binary on the fault
// PKCS#11 module in security/tokens_test.go.

func batchParams(id string, n int) map[string]any {
	hashes := make([]string, n)
	for i := range hashes {
		hashes[i] = hashB64(fmt.Sprint("doc ", i))
	}
	return map[string]any{"certificateId": id, "hashes": hashes, "hashFunction": "SHA-256", "description": "Lô hồ sơ"}
}

// progressLog collects a request's progress messages.
type progressLog struct {
	mu   sync.Mutex
	msgs []protocol.Progress
	at   []time.Time
}

func (p *progressLog) add(msg []byte) {
	var m protocol.Progress
	if err := json.Unmarshal(msg, &m); err != nil {
		panic(fmt.Sprintf("progress message %q: %v", msg, err))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = append(p.msgs, m)
	p.at = append(p.at, time.Now())
}

func (p *progressLog) get() []protocol.Progress {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]protocol.Progress(nil), p.msgs...)
}

func (h *harness) progress(ctx context.Context, origin string, req map[string]any, p *progressLog) reply {
	h.t.Helper()
	raw, _ := json.Marshal(req)
	out := h.e.Handle(ctx, origin, raw, p.add)
	var rep reply
	if err := json.Unmarshal(out, &rep); err != nil {
		h.t.Fatalf("answer is not JSON: %s", out)
	}
	return rep
}

// A batch that takes longer than progressAfter: the progress window opens
// and follows, the page gets progress messages (its id, the total, done
// never going back, a few per second at most), all before the answer.
func TestProgress(t *testing.T) {
	prov := newFakeProvider(t)
	prov.onSign = func() { time.Sleep(60 * time.Millisecond) } // a slow token: 40 × 60 ms
	h := newHarness(t, prov, allowPortal)
	h.pr.OnPIN(prompttest.PIN("123456"))
	var p progressLog
	start := time.Now()
	r := h.progress(context.Background(), portal, map[string]any{"id": "lô-1", "op": "signBatch", "params": batchParams(prov.certs[0].ID, 40)}, &p)
	took := time.Since(start)
	if code(r) != "OK" || prov.signed != 40 {
		t.Fatalf("batch: %s, %d signed", code(r), prov.signed)
	}
	got := p.get()
	if len(got) == 0 {
		t.Fatal("no progress message")
	}
	last := -1
	for _, m := range got {
		if m.ID != "lô-1" || m.Progress.Total != 40 || m.Progress.Done < last || m.Progress.Done > 40 {
			t.Fatalf("progress messages %+v", got)
		}
		last = m.Progress.Done
	}
	// At most one per progressEvery after progressAfter (one more for the
	// first tick).
	if max := int((took-progressAfter)/progressEvery) + 2; len(got) > max {
		t.Fatalf("%d progress messages in %v, more than %d", len(got), took, max)
	}
	time.Sleep(3 * progressEvery)
	if n := len(p.get()); n != len(got) {
		t.Fatalf("%d progress messages after the answer", n-len(got))
	}
	if h.pr.Count(prompttest.KindProgress) != 1 || len(h.pr.Updates()) == 0 {
		t.Fatalf("progress window: %d opened, updates %v", h.pr.Count(prompttest.KindProgress), h.pr.Updates())
	}
	var win prompttest.Call
	for _, c := range h.pr.Calls() {
		if c.Kind == prompttest.KindProgress {
			win = c
		}
	}
	if win.Op.Origin != portal || win.Op.Count != 40 || win.Op.Holder != "NGUYỄN VĂN AN" || win.Op.Description != "Lô hồ sơ" {
		t.Fatalf("the progress window shows %+v", win.Op)
	}

	// A quick operation shows nothing.
	prov.onSign = nil
	h.pr.OnPIN(prompttest.PIN("123456"))
	var q progressLog
	if r := h.progress(context.Background(), portal, map[string]any{"id": "q", "op": "signBatch", "params": batchParams(prov.certs[0].ID, 3)}, &q); code(r) != "OK" {
		t.Fatal(code(r))
	}
	if len(q.get()) != 0 || h.pr.Count(prompttest.KindProgress) != 1 {
		t.Fatalf("a quick batch reported progress: %v", q.get())
	}
}

// Cancel in the progress window stops at the next signature: USER_CANCELLED,
// no signature returned, the window closed, and it counts as declined.
func TestProgressCancel(t *testing.T) {
	prov := newFakeProvider(t)
	prov.onSign = func() { time.Sleep(60 * time.Millisecond) }
	h := newHarness(t, prov, allowPortal)
	h.pr.OnPIN(prompttest.PIN("123456"))
	h.pr.On(prompttest.KindProgress, prompttest.Answer{CancelAt: 1})
	r := h.call(portal, "signBatch", batchParams(prov.certs[0].ID, 200))
	if code(r) != "USER_CANCELLED" || r.Result != nil {
		t.Fatalf("cancelled batch: %+v", r)
	}
	if prov.signed >= 200 || prov.signed < 1 {
		t.Fatalf("%d signed", prov.signed)
	}
	if n, _ := h.e.o.Declines.Count(portal, h.clock.Now().Add(-RateWindow)); n != 1 {
		t.Fatalf("%d declines recorded", n)
	}
	if k := prov.closes[len(prov.closes)-1]; k != 0 {
		t.Fatalf("kept logged in for %v after a cancel", k)
	}
}

// No token present: the plug-in window opens once and the operation goes
// on by itself when one is plugged in — no second click, no page retry.
func TestPlugIn(t *testing.T) {
	prov := newFakeProvider(t)
	h := newHarness(t, prov, allowPortal)
	prov.absent = 3 // the first look and two polls find nothing
	h.pr.OnPIN(prompttest.PIN("123456"))
	if r := h.call(portal, "sign", map[string]any{"certificateId": prov.certs[0].ID, "hash": hashB64("x"), "hashFunction": "SHA-256"}); code(r) != "OK" {
		t.Fatalf("sign after plugging in: %s", code(r))
	}
	calls := h.pr.Calls()
	if len(calls) != 2 || calls[0].Kind != prompttest.KindPlugIn || calls[0].Origin != portal || calls[1].Kind != prompttest.KindPIN {
		t.Fatalf("dialogs %+v", calls)
	}

	// Cancelled: NO_TOKEN, a decline.
	prov.absent = 1 << 30
	h.pr.On(prompttest.KindPlugIn, prompttest.Cancel())
	if r := h.call(portal, "sign", map[string]any{"certificateId": prov.certs[0].ID, "hash": hashB64("x"), "hashFunction": "SHA-256"}); code(r) != "NO_TOKEN" {
		t.Fatalf("plug-in cancelled: %s", code(r))
	}
	// The window's time is up: NO_TOKEN, a decline too.
	h2 := newHarness(t, prov, allowPortal, func(o *Options) { o.UserTimeout = 300 * time.Millisecond })
	if r := h2.call(portal, "getCertificate", nil); code(r) != "NO_TOKEN" || h2.pr.Count(prompttest.KindPlugIn) != 1 {
		t.Fatalf("plug-in timed out: %s", code(r))
	}
	if n, _ := h2.e.o.Declines.Count(portal, h2.clock.Now().Add(-RateWindow)); n != 1 {
		t.Fatalf("a timed-out plug-in window: %d declines", n)
	}
	// No window can be shown: NO_DIALOG.
	h.pr.On(prompttest.KindPlugIn, prompttest.NoDialog())
	if r := h.call(portal, "getCertificate", nil); code(r) != "NO_DIALOG" {
		t.Fatalf("plug-in without a display: %s", code(r))
	}
}

// A PIN pad: the pad window, a login without a PIN; wrong PIN and lockout
// on the pad give what typed PINs give; Cancel on the pad USER_CANCELLED.
func TestPINPad(t *testing.T) {
	prov := newFakeProvider(t)
	prov.pad = true
	h := newHarness(t, prov, allowPortal)
	req := map[string]any{"certificateId": prov.certs[0].ID, "hash": hashB64("x"), "hashFunction": "SHA-256", "description": "Tờ khai"}
	if r := h.call(portal, "sign", req); code(r) != "OK" {
		t.Fatalf("pad: %s", code(r))
	}
	if h.pr.Count(prompttest.KindPIN) != 0 || h.pr.Count(prompttest.KindPINPad) != 1 {
		t.Fatalf("dialogs %+v", h.pr.Calls())
	}
	if c := h.pr.Calls()[0]; c.PIN.Origin != portal || c.PIN.Description != "Tờ khai" || c.PIN.Retry {
		t.Fatalf("pad window %+v", c.PIN)
	}

	// Wrong on the pad, then right: the window again, saying so.
	wrong := 1
	prov.pinpad = func() error {
		if wrong > 0 {
			wrong--
			return &token.Error{Code: token.PINIncorrect, PIN: token.PINState{CountLow: true}}
		}
		return nil
	}
	if r := h.call(portal, "sign", req); code(r) != "OK" {
		t.Fatalf("pad, wrong then right: %s", code(r))
	}
	calls := h.pr.Calls()
	if last := calls[len(calls)-1]; last.Kind != prompttest.KindPINPad || !last.PIN.Retry || !last.PIN.CountLow {
		t.Fatalf("the pad window after a wrong PIN: %+v", last.PIN)
	}
	prov.pinpad = func() error { return &token.Error{Code: protocol.PINLocked} }
	if r := h.call(portal, "sign", req); code(r) != "PIN_LOCKED" {
		t.Fatalf("locked on the pad: %s", code(r))
	}
	prov.pinpad = func() error { return &token.Error{Code: protocol.UserCancelled, Detail: "CKR_FUNCTION_CANCELED"} }
	if r := h.call(portal, "sign", req); code(r) != "USER_CANCELLED" {
		t.Fatalf("cancel on the pad: %s", code(r))
	}

	// Cancel in Kyso's window while the token waits for the pad: the
	// operation ends; the gate stays taken until the pad gives up.
	typing := make(chan struct{})
	prov.pinpad = func() error { <-typing; return &token.Error{Code: protocol.UserCancelled} }
	h.pr.On(prompttest.KindPINPad, prompttest.Cancel())
	if r := h.call(portal, "sign", req); code(r) != "USER_CANCELLED" {
		t.Fatalf("window cancelled: %s", code(r))
	}
	if r := h.call(portal, "sign", req); code(r) != "BUSY" {
		t.Fatalf("while the pad still waits: %s", code(r))
	}
	close(typing)
	prov.mu.Lock()
	prov.pinpad = nil
	prov.mu.Unlock()
	waitFree(t, h, req)
}

// waitFree waits until an operation gets past the gate (not BUSY) and
// signs.
func waitFree(t *testing.T, h *harness, req map[string]any) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		h.pr.OnPIN(prompttest.PIN("123456"))
		r := h.call(portal, "sign", req)
		if code(r) == "OK" {
			return
		}
		if code(r) != "BUSY" || time.Now().After(end) {
			t.Fatalf("after the token came back: %s", code(r))
		}
	}
}

// A signature that does not verify with the certificate's key never leaves:
// TOKEN_ERROR with detail SIGNATURE_INVALID, and no signature of the batch.
func TestFaultySignature(t *testing.T) {
	prov := newFakeProvider(t)
	h := newHarness(t, prov, allowPortal)
	for _, cert := range prov.certs { // RSA and ECDSA
		prov.faulty = 1
		h.pr.OnPIN(prompttest.PIN("123456"))
		r := h.call(portal, "sign", map[string]any{"certificateId": cert.ID, "hash": hashB64("x"), "hashFunction": "SHA-256"})
		if code(r) != "TOKEN_ERROR" || r.Error.Detail != DetailFaultySignature || r.Result != nil ||
			!strings.Contains(r.Error.Message, "faulty signature") {
			t.Fatalf("faulty signature: %+v", r.Error)
		}
	}
	// The third of a batch: nothing of it is returned.
	var n int
	prov.onSign = func() {
		if n++; n == 3 {
			prov.faulty = 1
		}
	}
	h.pr.OnPIN(prompttest.PIN("123456"))
	if r := h.call(portal, "signBatch", batchParams(prov.certs[0].ID, 5)); code(r) != "TOKEN_ERROR" || r.Result != nil {
		t.Fatalf("faulty third of five: %+v", r)
	}
}

// A token that hangs inside a call does not hang the engine: the page going
// away ends the operation; meanwhile others get BUSY (the gate is held
// until the call returns) and version is served; once the token comes
// back, the next operation works.
func TestHangingToken(t *testing.T) {
	prov := newFakeProvider(t)
	h := newHarness(t, prov, allowPortal)
	req := map[string]any{"certificateId": prov.certs[0].ID, "hash": hashB64("x"), "hashFunction": "SHA-256"}
	stuck := make(chan struct{})
	prov.hang = stuck
	entered := make(chan struct{}, 1)
	prov.onSign = func() { entered <- struct{}{} }
	h.pr.OnPIN(prompttest.PIN("123456"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan reply)
	go func() { done <- h.do(ctx, portal, map[string]any{"id": "h", "op": "sign", "params": req}) }()
	<-entered
	prov.mu.Lock()
	prov.onSign = nil
	prov.mu.Unlock()
	cancel()
	select {
	case r := <-done:
		if code(r) != "USER_CANCELLED" {
			t.Fatalf("page gone while the token hangs: %s", code(r))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the operation did not end while the token hangs")
	}
	if r := h.call(portal, "sign", req); code(r) != "BUSY" {
		t.Fatalf("while the token hangs: %s", code(r))
	}
	if r := h.call(portal, "version", nil); code(r) != "OK" {
		t.Fatalf("version while the token hangs: %s", code(r))
	}

	// The person's Cancel in the progress window ends it too.
	prov.release(stuck)
	waitFree(t, h, req)
	stuck = make(chan struct{})
	prov.mu.Lock()
	prov.hang = stuck
	prov.mu.Unlock()
	h.pr.OnPIN(prompttest.PIN("123456"))
	h.pr.On(prompttest.KindProgress, prompttest.Cancel())
	if r := h.call(portal, "sign", req); code(r) != "USER_CANCELLED" {
		t.Fatalf("cancelled in the progress window while the token hangs: %s", code(r))
	}
	prov.release(stuck)
	waitFree(t, h, req)
}

// A page looping on dialogs that time out is rate limited like one whose
// dialogs are declined (finding 5). Before the fix a time-out did not count,
// and the loop held the one-dialog lock for good.
func TestTimeoutLoopRateLimited(t *testing.T) {
	prov := newFakeProvider(t)
	h := newHarness(t, prov, allowPortal, func(o *Options) { o.UserTimeout = 50 * time.Millisecond })
	h.pr.Always(prompttest.KindPIN, prompttest.Block())
	req := map[string]any{"certificateId": prov.certs[0].ID, "hash": hashB64("x"), "hashFunction": "SHA-256"}
	for i := 0; i < RateMax; i++ {
		if r := h.call(portal, "sign", req); code(r) != "TIMEOUT" {
			t.Fatalf("time-out %d: %s", i, code(r))
		}
	}
	if r := h.call(portal, "sign", req); code(r) != "RATE_LIMITED" || h.pr.Count(prompttest.KindPIN) != RateMax {
		t.Fatalf("after %d time-outs: %s", RateMax, code(r))
	}
}

// oddPrompter answers the consent dialog with what no prompter may:
// Deny and no error.
type oddPrompter struct{ *prompttest.Prompter }

func (oddPrompter) ApproveOrigin(context.Context, string) (prompt.Approval, error) {
	return prompt.Deny, nil
}

// Dialogs fail closed (finding 11): a dialog that cannot be shown, an
// error the prompter is not documented to give, and an answer that is not
// an explicit Allow are NO_DIALOG — not USER_CANCELLED (the person did not
// decline), never consent — and nothing is signed.
func TestNoDialog(t *testing.T) {
	prov := newFakeProvider(t)
	h := newHarness(t, prov, allowPortal)
	req := map[string]any{"certificateId": prov.certs[0].ID, "hash": hashB64("x"), "hashFunction": "SHA-256"}
	for _, a := range []prompttest.Answer{prompttest.NoDialog(), {Err: errors.New("dialog API broke")}} {
		h.pr.OnPIN(a)
		if r := h.call(portal, "sign", req); code(r) != "NO_DIALOG" {
			t.Fatalf("PIN dialog %v: %s", a.Err, code(r))
		}
	}
	prov.loggedIn = true
	writeFile(t, h.paths.System, `{"pinCacheSeconds": 60}`)
	h.pr.OnPIN(prompttest.PIN("123456"))
	h.call(portal, "sign", req)
	h.pr.OnConfirm(prompttest.NoDialog())
	if r := h.call(portal, "sign", req); code(r) != "NO_DIALOG" {
		t.Fatalf("confirmation: %s", code(r))
	}
	if prov.signed != 1 {
		t.Fatalf("%d signed", prov.signed)
	}
	h.pr.OnApprove(prompttest.NoDialog())
	if r := h.call("https://new.example.vn", "sign", req); code(r) != "NO_DIALOG" {
		t.Fatalf("consent: %s", code(r))
	}
	odd := newHarness(t, prov, "", func(o *Options) { o.Prompter = oddPrompter{prompttest.New()} })
	if r := odd.call("https://new.example.vn", "sign", req); code(r) != "NO_DIALOG" || prov.signed != 1 {
		t.Fatalf("consent answered Deny without an error: %s", code(r))
	}
}

// A document operation plugs into the flow as a Job: Prepare (once the key
// is open) gives the digests and what the dialogs show, the consent names
// the documents, and Finish gets every signature, verified.
func TestJobWithDocuments(t *testing.T) {
	prov := newFakeProvider(t)
	h := newHarness(t, prov, allowPortal)
	h.pr.OnPIN(prompttest.PIN("123456"))
	docs := []document.Summary{
		{Kind: "pdf", FileName: "hop-dong.pdf", Title: "Hợp đồng số 12", Pages: 3},
		{Kind: "xml", FileName: "hoa-don.xml", Title: "HDon", Details: []document.Detail{{Label: "invoiceNumber", Value: "0000123"}}},
	}
	digests := [][]byte{sha(t, "pdf"), sha(t, "xml")}
	var prepared Signer
	job := Job{CertID: prov.certs[0].ID, Description: "Hồ sơ 9",
		Prepare: func(_ context.Context, s Signer) (*Plan, error) {
			prepared = s
			return &Plan{Hash: token.SHA256, Digests: digests, Documents: docs,
				Finish: func(_ context.Context, sigs [][]byte) (any, error) {
					for i, s := range sigs {
						if err := rsa.VerifyPKCS1v15(prov.certs[0].Cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digests[i], s); err != nil {
							return nil, err
						}
					}
					return map[string]int{"documents": len(sigs)}, nil
				}}, nil
		}}
	pol, _ := h.e.policy()
	o, _ := parseOrigin(portal)
	res, err := h.e.interactive(context.Background(), o, allowed, opRequest{id: "d"}, func(ctx context.Context, op *operation) (any, error) {
		return h.e.signJob(ctx, op, pol, job)
	})
	if err != nil || fmt.Sprint(res) != "map[documents:2]" {
		t.Fatalf("job: %v, %v", res, err)
	}
	if prepared.Scheme != token.PKCS1v15 || prepared.Certificate.ID != prov.certs[0].ID || prepared.Time.IsZero() {
		t.Fatalf("Prepare got %+v", prepared)
	}
	p := h.pr.PINCalls()[0]
	if p.Count != 2 || len(p.Documents) != 2 || p.Documents[1].Details[0].Value != "0000123" || p.Description != "Hồ sơ 9" {
		t.Fatalf("the PIN dialog shows %+v", p.Operation)
	}
	// A document error from Prepare is answered with its code, before any
	// dialog.
	n := len(h.pr.Calls())
	job.Prepare = func(context.Context, Signer) (*Plan, error) { return nil, document.Bad("the PDF is encrypted") }
	_, err = h.e.interactive(context.Background(), o, allowed, opRequest{id: "d"}, func(ctx context.Context, op *operation) (any, error) {
		return h.e.signJob(ctx, op, pol, job)
	})
	if r := h.e.failResp("d", err); r.Code() != protocol.BadDocument || !strings.Contains(r.Error.Message, "encrypted") || len(h.pr.Calls()) != n {
		t.Fatalf("document error: %+v", r.Error)
	}
}

func sha(t *testing.T, s string) []byte {
	t.Helper()
	h := crypto.SHA256.New()
	h.Write([]byte(s))
	return h.Sum(nil)
}
