//go:build linux && cgo

package security

// The signing record (issue 16, finding 12): every signature made through
// the shipped agent, with the real PIN dialog, is in the audit log with
// what DESIGN asks, `kyso history` shows it to the person newest first in
// their language and in full as JSON, the PIN is nowhere, and rotation
// keeps the history readable.

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"kyso.vn/kyso/internal/audit"
	"kyso.vn/kyso/internal/logging"
	"kyso.vn/kyso/internal/testenv"
)

// history runs the shipped `kyso history` as the agent's user, with LANG
// set to lang's locale.
func history(t *testing.T, a *testenv.Agent, lang string, args ...string) string {
	t.Helper()
	cmd := a.Command(append([]string{"history"}, args...)...)
	cmd.Env = append(cmd.Env, "LANG="+map[string]string{"vi": "vi_VN.UTF-8", "en": "en_US.UTF-8"}[lang])
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kyso history %v: %v\n%s", args, err, out)
	}
	if err := testenv.NoSecret(suitePIN, string(out)); err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func historyJSON(t *testing.T, a *testenv.Agent, args ...string) []audit.Record {
	t.Helper()
	var recs []audit.Record
	out := history(t, a, "en", append([]string{"--json"}, args...)...)
	if err := json.Unmarshal([]byte(out), &recs); err != nil {
		t.Fatalf("kyso history --json: %v\n%s", err, out)
	}
	return recs
}

// signWithPIN sends one request that opens the PIN dialog, and types the
// PIN (or cancels the dialog when pin is "").
func signAnswering(t *testing.T, a *testenv.Agent, display string, r map[string]any, pin string) response {
	t.Helper()
	c, _, err := a.Dial(portal)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b, _ := json.Marshal(r)
	if err := c.WriteMessage(websocket.TextMessage, b); err != nil {
		t.Fatal(err)
	}
	if pin == "" {
		testenv.Cancel(t, display, pinTitle)
	} else {
		testenv.AnswerPIN(t, display, pinTitle, pin)
	}
	return read(t, c)
}

func TestAuditHistory(t *testing.T) {
	display := testenv.Display(t)
	a := startAgent(t, display, nil)
	id := certID(t, testenv.CertRSA)
	start := time.Now().Add(-time.Second)

	one := hashOf("Tờ khai đăng ký hộ tịch")
	p := signParams(id, one)
	p["description"] = "Tờ khai số 2026/17 — UBND phường Hàng Bạc"
	if r := signAnswering(t, a, display, req("s1", "sign", p), suitePIN); !r.OK {
		t.Fatalf("sign: %+v", r.Error)
	}
	batch := [][]byte{hashOf("văn bản 1"), hashOf("văn bản 2"), hashOf("văn bản 3")}
	var b64 []string
	for _, h := range batch {
		b64 = append(b64, base64.StdEncoding.EncodeToString(h))
	}
	if r := signAnswering(t, a, display, req("s2", "signBatch", map[string]any{"certificateId": id, "hashes": b64,
		"hashFunction": "SHA-256"}), suitePIN); !r.OK {
		t.Fatalf("signBatch: %+v", r.Error)
	}
	if r := signAnswering(t, a, display, req("s3", "sign", signParams(id, hashOf("hủy"))), ""); r.Code() != "USER_CANCELLED" {
		t.Fatalf("cancelled sign: %+v", r)
	}

	// --json: every field, newest first.
	recs := historyJSON(t, a)
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3: %+v", len(recs), recs)
	}
	cancelled, bat, first := recs[0], recs[1], recs[2]
	for _, r := range recs {
		if r.Origin != portal || r.CertID != id || r.Time.Before(start) || r.Time.After(time.Now()) {
			t.Fatalf("record %+v", r)
		}
	}
	if first.Op != "sign" || first.Outcome != "OK" || first.Description != p["description"] || len(first.Items) != 1 ||
		first.Items[0].Hash != hex.EncodeToString(one) || first.Items[0].HashFunction != "SHA-256" {
		t.Fatalf("the signature: %+v", first)
	}
	if bat.Op != "signBatch" || bat.Outcome != "OK" || len(bat.Items) != 3 {
		t.Fatalf("the batch: %+v", bat)
	}
	for i, it := range bat.Items {
		if it.Hash != hex.EncodeToString(batch[i]) {
			t.Fatalf("batch item %d: %s, want the full hash %x", i, it.Hash, batch[i])
		}
	}
	if cancelled.Op != "sign" || cancelled.Outcome != "USER_CANCELLED" || !first.Time.Before(cancelled.Time) {
		t.Fatalf("the cancelled one: %+v", cancelled)
	}
	if got := historyJSON(t, a, "--limit", "1"); len(got) != 1 || got[0].Outcome != "USER_CANCELLED" {
		t.Fatalf("--limit 1: %+v", got)
	}

	// The person's view, in Vietnamese and in English, newest first.
	for lang, want := range map[string][]string{
		"vi": {"Ký số một tài liệu: Người dùng đã hủy (USER_CANCELLED)", "Ký 3 tài liệu: thành công", "Ký số một tài liệu: thành công"},
		"en": {"Sign one document: Cancelled by the user (USER_CANCELLED)", "Sign 3 documents: done", "Sign one document: done"},
	} {
		out := history(t, a, lang)
		at := -1
		for _, w := range want {
			i := strings.Index(out, w)
			if i <= at {
				t.Fatalf("%s: %q missing or out of order:\n%s", lang, w, out)
			}
			at = i
		}
		for _, w := range []string{portal, id, `"Tờ khai số 2026/17 — UBND phường Hàng Bạc"`, "SHA-256 " + hex.EncodeToString(one),
			"SHA-256 " + hex.EncodeToString(batch[2])} {
			if !strings.Contains(out, w) {
				t.Fatalf("%s: no %q:\n%s", lang, w, out)
			}
		}
	}

	// Rotation: a signing record already past its size is moved aside
	// when the agent starts; the history still reads both files.
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(a.Home, "cache", "kyso")
	f, err := os.OpenFile(filepath.Join(dir, logging.AuditFileName), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	old := audit.New(f)
	filler := audit.Record{Time: time.Now(), Origin: other, Op: "signBatch", CertID: id, Outcome: "OK"}
	for i := 0; i < 1000; i++ {
		filler.Items = append(filler.Items, audit.Item{HashFunction: "SHA-512", Hash: strings.Repeat("ab", 64)})
	}
	older := 0
	for st, _ := f.Stat(); st.Size() <= logging.MaxSize; st, _ = f.Stat() {
		old.Write(filler)
		older++
	}
	f.Close()
	a.Start()
	last := hashOf("sau khi xoay vòng")
	if r := signAnswering(t, a, display, req("s4", "sign", signParams(id, last)), suitePIN); !r.OK {
		t.Fatalf("sign after rotation: %+v", r.Error)
	}
	if _, err := os.Stat(filepath.Join(dir, logging.AuditFileName+".1")); err != nil {
		t.Fatalf("audit.log not rotated: %v", err)
	}
	all := historyJSON(t, a, "--limit", "0")
	// Newest first: the new signature, the filler (written last before
	// the restart), then the three of the start.
	if len(all) != 1+older+3 || all[0].Items[0].Hash != hex.EncodeToString(last) || all[1].Origin != other ||
		all[older].Origin != other || all[older+1].Outcome != "USER_CANCELLED" || all[len(all)-1].Items[0].Hash != hex.EncodeToString(one) {
		t.Fatalf("after rotation: %d records (want %d), newest %+v", len(all), 1+older+3, all[0])
	}
	if out := history(t, a, "en", "--limit", "1"); !strings.Contains(out, hex.EncodeToString(last)) ||
		strings.Contains(out, other) {
		t.Fatalf("--limit 1 after rotation:\n%s", out)
	}
	// (The agent's cleanup also looks for the PIN in every file under its
	// home, the audit logs included, and in its output.)
}
