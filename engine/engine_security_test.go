package engine

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"kyso.vn/kyso/internal/audit"
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
	if limited, _ := h.e.rateLimited(portal, RateMax); limited {
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
	if n > MaxDeclineOrigins {
		t.Fatalf("%d origins in the rate-limit table", n)
	}
}

// A site with wildcard DNS has endless origins, each with its own three
// declines: declined "allow this site?" dialogs also count across origins,
// so that the person sees at most ApprovalStormMax of them in a minute. A
// listed origin's own dialogs go on meanwhile.
func TestApprovalDialogStorm(t *testing.T) {
	prov := newFakeProvider(t)
	h := newHarness(t, prov, allowPortal)
	h.pr.Always("approve", prompttest.Cancel())
	for i := 0; i < 20; i++ {
		r := h.call(fmt.Sprintf("https://x%d.evil.example", i), "getCertificate", map[string]any{})
		want := "USER_CANCELLED"
		if i >= ApprovalStormMax {
			want = "RATE_LIMITED"
		}
		if code(r) != want {
			t.Fatalf("origin %d: %s, want %s", i, code(r), want)
		}
	}
	if n := h.pr.Count("approve"); n != ApprovalStormMax {
		t.Fatalf("%d approval dialogs, want %d", n, ApprovalStormMax)
	}
	h.pr.OnPIN(prompttest.PIN("123456"))
	if r := h.call(portal, "sign", map[string]any{"certificateId": prov.certs[0].ID, "hash": hashB64("x"), "hashFunction": "SHA-256"}); !r.OK {
		t.Fatalf("allowed origin during the storm: %s", code(r))
	}
	h.clock.Add(RateWindow + time.Second)
	if r := h.call("https://late.evil.example", "getCertificate", map[string]any{}); code(r) != "USER_CANCELLED" {
		t.Fatalf("after the window: %s", code(r))
	}
}

// The page never chooses what the agent loads or does beyond the protocol:
// modules come only from the policy files, so a request naming a library
// (as some vendor plugins accept) is BAD_REQUEST, with no dialog and
// nothing signed.
func TestPageCannotChooseModule(t *testing.T) {
	prov := newFakeProvider(t)
	h := newHarness(t, prov, allowPortal)
	base := map[string]any{"certificateId": prov.certs[0].ID, "hash": hashB64("x"), "hashFunction": "SHA-256"}
	for _, key := range []string{"module", "modules", "library", "pkcs11Library", "dll", "pin"} {
		p := map[string]any{key: "/tmp/evil.so"}
		for k, v := range base {
			p[k] = v
		}
		if r := h.call(portal, "sign", p); code(r) != "BAD_REQUEST" {
			t.Errorf("sign with %q: %s", key, code(r))
		}
		if r := h.call(portal, "getCertificate", map[string]any{key: "/tmp/evil.so"}); code(r) != "BAD_REQUEST" {
			t.Errorf("getCertificate with %q: %s", key, code(r))
		}
	}
	if n := len(h.pr.Calls()); n != 0 || prov.signed != 0 {
		t.Fatalf("%d dialogs, %d signatures", n, prov.signed)
	}
}

// A page can ask `version`, or send refused requests, in a loop: those go
// to the main log only, so that they cannot push the signing record out of
// the audit log. What a person or a token answered goes to both.
func TestAuditLogOnlyWhatPeopleDid(t *testing.T) {
	prov := newFakeProvider(t)
	var buf strings.Builder
	h := newHarness(t, prov, `{"allowedOrigins": ["https://dichvucong.gov.vn"], "userApproval": false}`, func(o *Options) {
		o.Audit = audit.New(syncWriter{w: &buf})
	})
	sign := map[string]any{"certificateId": prov.certs[0].ID, "hash": hashB64("x"), "hashFunction": "SHA-256"}
	for i := 0; i < 50; i++ {
		h.call(portal, "version", nil)
		h.call("https://evil.example", "sign", sign)                                                                                       // ORIGIN_DENIED
		h.call(portal, "sign", map[string]any{"hash": "%%%"})                                                                              // BAD_REQUEST
		h.call(portal, "sign", map[string]any{"certificateId": strings.Repeat("ab", 32), "hash": hashB64("x"), "hashFunction": "SHA-256"}) // CERTIFICATE_NOT_FOUND
	}
	logMu.Lock()
	quiet := buf.String()
	logMu.Unlock()
	if quiet != "" {
		t.Fatalf("the audit log got requests nobody answered:\n%s", quiet)
	}
	h.pr.OnPIN(prompttest.PIN("123456"), prompttest.Cancel())
	if r := h.call(portal, "sign", sign); !r.OK {
		t.Fatalf("sign: %s", code(r))
	}
	if r := h.call(portal, "sign", sign); code(r) != "USER_CANCELLED" {
		t.Fatalf("cancelled sign: %s", code(r))
	}
	logMu.Lock()
	got := buf.String()
	logMu.Unlock()
	if strings.Count(got, `"outcome":"OK"`) != 1 || strings.Count(got, `"outcome":"USER_CANCELLED"`) != 1 || strings.Count(got, "\n") != 2 {
		t.Fatalf("audit log:\n%s", got)
	}
}

// The signing record of each signature holds what DESIGN says — time,
// origin, op, the certificate id, every hash in full, the page's
// description, the outcome — and never the PIN.
func TestAuditRecord(t *testing.T) {
	prov := newFakeProvider(t)
	var buf strings.Builder
	h := newHarness(t, prov, allowPortal, func(o *Options) { o.Audit = audit.New(syncWriter{w: &buf}) })
	h.pr.OnPIN(prompttest.PIN("123456"))
	hashes := []string{hashB64("một"), hashB64("hai"), hashB64("ba")}
	before := time.Now()
	r := h.call(portal+":443", "signBatch", map[string]any{"certificateId": prov.certs[0].ID, "hashes": hashes,
		"hashFunction": "SHA-256", "description": "Hồ sơ 2026/17 — Sở Tư pháp"})
	if !r.OK {
		t.Fatalf("signBatch: %s", code(r))
	}
	logMu.Lock()
	line := buf.String()
	logMu.Unlock()
	if strings.Contains(line, "123456") {
		t.Fatalf("the PIN is in the audit log: %s", line)
	}
	var rec audit.Record
	if err := json.Unmarshal([]byte(line), &rec); err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	if rec.Origin != portal || rec.Op != "signBatch" || rec.CertID != prov.certs[0].ID || rec.Outcome != "OK" ||
		rec.Description != "Hồ sơ 2026/17 — Sở Tư pháp" || rec.Time.Before(before) || len(rec.Items) != 3 ||
		rec.Subject != holder(prov.certs[0].Cert) {
		t.Fatalf("record %+v", rec)
	}
	for i, it := range rec.Items {
		raw, _ := base64.StdEncoding.DecodeString(hashes[i])
		if it.HashFunction != "SHA-256" || it.Hash != hex.EncodeToString(raw) {
			t.Fatalf("item %d: %+v, want the full hash %x", i, it, raw)
		}
	}
}
