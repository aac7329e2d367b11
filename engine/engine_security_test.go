package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"kyso.vn/kyso/prompt/prompttest"
)

// A page that opens a dialog and then closes its connection (which closes
// the dialog) has not been answered by the person, but it has flashed a
// focus-stealing dialog at them, a PIN dialog that a stray Enter submits. It
// counts like a cancelled prompt, so a page cannot do it in a loop.
func TestAbandonedDialogsAreRateLimited(t *testing.T) {
	prov := newFakeProvider(t)
	// The timeout only keeps a broken engine from hanging the test.
	h := newHarness(t, prov, allowPortal, func(o *Options) { o.UserTimeout = 10 * time.Second })
	h.pr.Shown = make(chan prompttest.Call)
	h.pr.Always("pin", prompttest.Block())
	req := map[string]any{"certificateId": prov.certs[0].ID, "hash": hashB64("x"), "hashFunction": "SHA-256"}
	for i := 0; i < 3; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan reply)
		go func() { done <- h.do(ctx, portal, map[string]any{"id": "s", "op": "sign", "params": req}) }()
		<-h.pr.Shown
		cancel()
		if r := <-done; code(r) != "USER_CANCELLED" {
			t.Fatalf("abandoned %d: %s", i, code(r))
		}
	}
	h.pr.Shown = nil
	if r := h.call(portal, "sign", req); code(r) != "RATE_LIMITED" || h.pr.Count("pin") != 3 {
		t.Fatalf("4th: %s after %d PIN dialogs", code(r), h.pr.Count("pin"))
	}
}

// A connection that closes while nothing is shown (e.g. in the middle of a
// batch the person approved) is not a dismissed dialog.
func TestClosedWithoutDialogIsNotADecline(t *testing.T) {
	prov := newFakeProvider(t)
	h := newHarness(t, prov, allowPortal)
	for i := 0; i < 4; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		h.pr.OnPIN(prompttest.PIN("123456"))
		prov.onSign = cancel
		r := h.do(ctx, portal, map[string]any{"id": "b", "op": "signBatch", "params": map[string]any{
			"certificateId": prov.certs[0].ID, "hashes": []string{hashB64("a"), hashB64("b")}, "hashFunction": "SHA-256"}})
		prov.onSign = nil
		if code(r) != "USER_CANCELLED" {
			t.Fatalf("closed mid-batch %d: %s", i, code(r))
		}
	}
	if limited, _ := h.e.rateLimited(portal); limited {
		t.Fatal("closing after the PIN was given counted as declined dialogs")
	}
}

// Declines under endless origins (a site with wildcard DNS) do not pile up
// in the rate-limit table once they are older than the window.
func TestDeclineTableBounded(t *testing.T) {
	h := newHarness(t, newFakeProvider(t), allowPortal)
	for i := 0; i < 5000; i++ {
		h.e.recordDecline(fmt.Sprintf("https://x%d.evil.example", i))
		h.clock.Add(time.Second)
	}
	d := h.e.o.Declines.(*memDeclines)
	d.mu.Lock()
	n := len(d.m)
	d.mu.Unlock()
	if n > maxDeclineOrigins {
		t.Fatalf("%d origins in the rate-limit table", n)
	}
}
