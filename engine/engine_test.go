package engine

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/prompt"
	"kyso.vn/kyso/prompt/prompttest"
	"kyso.vn/kyso/protocol"
	"kyso.vn/kyso/token"
)

const portal = "https://dichvucong.gov.vn"

// clock is a movable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type harness struct {
	t     *testing.T
	e     *Engine
	pr    *prompttest.Prompter
	prov  token.Provider
	paths Paths
	clock *clock
	logs  *strings.Builder
}

func testPaths(t *testing.T) Paths {
	dir := t.TempDir()
	return Paths{
		System:    filepath.Join(dir, "etc", "policy.json"),
		User:      filepath.Join(dir, "user", "kyso", "config.json"),
		Approvals: filepath.Join(dir, "user", "kyso", "approvals.json"),
		// Not as root, the test's own files stand for the admin's.
		systemMayBeOurs: os.Getuid() != 0,
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// newHarness builds an engine with a user config allowing the portal.
func newHarness(t *testing.T, prov token.Provider, userConfig string, tweak ...func(*Options)) *harness {
	t.Helper()
	h := &harness{t: t, pr: prompttest.New(), prov: prov, paths: testPaths(t),
		clock: &clock{t: time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)}, logs: &strings.Builder{}}
	if userConfig != "" {
		writeFile(t, h.paths.User, userConfig)
	}
	o := Options{Provider: prov, Prompter: h.pr, Paths: h.paths, Now: h.clock.Now, Lang: "en",
		Log: zerolog.New(syncWriter{w: h.logs})}
	for _, f := range tweak {
		f(&o)
	}
	e, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	h.e = e
	return h
}

type syncWriter struct{ w *strings.Builder }

var logMu sync.Mutex

func (s syncWriter) Write(p []byte) (int, error) {
	logMu.Lock()
	defer logMu.Unlock()
	return s.w.Write(p)
}

type reply = protocol.Response

func (h *harness) do(ctx context.Context, origin string, req any) reply {
	h.t.Helper()
	var raw []byte
	switch r := req.(type) {
	case string:
		raw = []byte(r)
	default:
		raw, _ = json.Marshal(r)
	}
	out := h.e.Handle(ctx, origin, raw, nil)
	var rep reply
	if err := json.Unmarshal(out, &rep); err != nil {
		h.t.Fatalf("answer is not JSON: %s", out)
	}
	return rep
}

func (h *harness) call(origin, op string, params any) reply {
	h.t.Helper()
	return h.do(context.Background(), origin, map[string]any{"id": "r1", "op": op, "params": params})
}

func code(r reply) string {
	if r.Error == nil {
		return "OK"
	}
	return string(r.Error.Code)
}

func hashB64(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

const allowPortal = `{"allowedOrigins": ["https://dichvucong.gov.vn"]}`

func TestValidation(t *testing.T) {
	prov := newFakeProvider(t)
	h := newHarness(t, prov, allowPortal)
	id := prov.certs[0].ID
	good := hashB64("doc")
	h32 := base64.StdEncoding.EncodeToString(make([]byte, 32))
	sign := func(extra string) string {
		return `{"id":"a","op":"sign","params":{"certificateId":"` + id + `","hash":"` + good + `","hashFunction":"SHA-256"` + extra + `}}`
	}
	cases := []struct {
		name, raw, id, code string
	}{
		{"not json", `hello`, "", "BAD_REQUEST"},
		{"empty", ``, "", "BAD_REQUEST"},
		{"array", `[{"id":"a","op":"version"}]`, "", "BAD_REQUEST"},
		{"null", `null`, "", "BAD_REQUEST"},
		{"trailing data", `{"id":"a","op":"version"} {}`, "a", "BAD_REQUEST"},
		{"invalid utf8", "{\"id\":\"a\xff\",\"op\":\"version\"}", "", "BAD_REQUEST"},
		{"id number", `{"id":1,"op":"version"}`, "", "BAD_REQUEST"},
		{"id empty", `{"id":"","op":"version"}`, "", "BAD_REQUEST"},
		{"id too long", `{"id":"` + strings.Repeat("x", 65) + `","op":"version"}`, "", "BAD_REQUEST"},
		{"id 64 runes", `{"id":"` + strings.Repeat("ý", 64) + `","op":"version"}`, strings.Repeat("ý", 64), "OK"},
		{"op missing", `{"id":"a"}`, "a", "BAD_REQUEST"},
		{"op number", `{"id":"a","op":7}`, "a", "BAD_REQUEST"},
		{"unknown op", `{"id":"a","op":"deleteEverything"}`, "a", "UNKNOWN_OP"},
		{"unknown top key", `{"id":"a","op":"version","extra":1}`, "a", "BAD_REQUEST"},
		{"params array", `{"id":"a","op":"version","params":[]}`, "a", "BAD_REQUEST"},
		{"params null", `{"id":"a","op":"version","params":null}`, "a", "OK"},
		{"params string", `{"id":"a","op":"version","params":"x"}`, "a", "BAD_REQUEST"},
		{"version unknown param", `{"id":"a","op":"version","params":{"x":1}}`, "a", "BAD_REQUEST"},
		{"version", `{"id":"a","op":"version","params":{}}`, "a", "OK"},
		{"version no params", `{"id":"a","op":"version"}`, "a", "OK"},
		{"too large", `{"id":"a","op":"version","params":{"p":"` + strings.Repeat("x", protocol.MaxMessage) + `"}}`, "a", "BAD_REQUEST"},
		{"too large for any op", `{"id":"a","op":"signPdf","params":{"pdf":"` + strings.Repeat("A", protocol.MaxDocumentMessage) + `"}}`, "", "BAD_REQUEST"},
		{"sign unknown param", sign(`,"pin":"1234"`), "a", "BAD_REQUEST"},
		{"sign url-safe b64", strings.Replace(sign(""), good, strings.NewReplacer("+", "-", "/", "_").Replace(good+"+/"), 1), "a", "BAD_REQUEST"},
		{"sign unpadded", strings.Replace(sign(""), good, strings.TrimRight(good, "="), 1), "a", "BAD_REQUEST"},
		{"sign b64 newline", strings.Replace(sign(""), good, good[:10]+`\n`+good[10:], 1), "a", "BAD_REQUEST"},
		{"sign short hash", strings.Replace(sign(""), good, base64.StdEncoding.EncodeToString(make([]byte, 20)), 1), "a", "BAD_REQUEST"},
		{"sign hash for sha384", strings.Replace(sign(""), "SHA-256", "SHA-384", 1), "a", "BAD_REQUEST"},
		{"sign unknown hashFunction", strings.Replace(sign(""), "SHA-256", "MD5", 1), "a", "BAD_REQUEST"},
		{"sign lowercase hashFunction", strings.Replace(sign(""), "SHA-256", "sha-256", 1), "a", "BAD_REQUEST"},
		{"sign unknown scheme", sign(`,"scheme":"RSA-RAW"`), "a", "BAD_REQUEST"},
		{"sign bad certificateId", strings.Replace(sign(""), id, strings.ToUpper(id), 1), "a", "BAD_REQUEST"},
		{"sign short certificateId", strings.Replace(sign(""), id, id[:10], 1), "a", "BAD_REQUEST"},
		{"sign description control", sign(`,"description":"a\u0007b"`), "a", "BAD_REQUEST"},
		{"sign description newline", sign(`,"description":"a\nb"`), "a", "BAD_REQUEST"},
		{"sign description bidi", sign(`,"description":"abc\u202Egnp.exe"`), "a", "BAD_REQUEST"},
		{"sign description too long", sign(`,"description":"` + strings.Repeat("ố", 257) + `"`), "a", "BAD_REQUEST"},
		{"sign with hashes", sign(`,"hashes":["` + h32 + `"]`), "a", "BAD_REQUEST"},
		{"sign hash wrong type", strings.Replace(sign(""), `"`+good+`"`, "42", 1), "a", "BAD_REQUEST"},
		{"batch empty", `{"id":"a","op":"signBatch","params":{"certificateId":"` + id + `","hashes":[],"hashFunction":"SHA-256"}}`, "a", "BAD_REQUEST"},
		{"batch with hash", `{"id":"a","op":"signBatch","params":{"certificateId":"` + id + `","hash":"` + h32 + `","hashes":["` + h32 + `"],"hashFunction":"SHA-256"}}`, "a", "BAD_REQUEST"},
		{"getCertificate bad filter", `{"id":"a","op":"getCertificate","params":{"filter":{"subject":"x"}}}`, "a", "BAD_REQUEST"},
		{"getCertificate filter type", `{"id":"a","op":"getCertificate","params":{"filter":"x"}}`, "a", "BAD_REQUEST"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.do(context.Background(), portal, c.raw)
			if code(r) != c.code || r.ID != c.id {
				t.Fatalf("got id %q %s (%v), want id %q %s", r.ID, code(r), r.Error, c.id, c.code)
			}
			if r.Error != nil && r.Error.Message == "" {
				t.Fatal("error without a message")
			}
		})
	}
	batch := make([]string, 1001)
	for i := range batch {
		batch[i] = h32
	}
	r := h.call(portal, "signBatch", map[string]any{"certificateId": id, "hashes": batch, "hashFunction": "SHA-256"})
	if code(r) != "BAD_REQUEST" {
		t.Fatalf("1001 hashes: %s", code(r))
	}
	if n := len(h.pr.Calls()); n != 0 {
		t.Fatalf("invalid requests opened %d dialogs", n)
	}
}

func TestVersionAndOrigins(t *testing.T) {
	h := newHarness(t, newFakeProvider(t), `{"blockedOrigins":["https://evil.example"]}`)
	r := h.call(portal, "version", nil)
	if code(r) != "OK" || string(r.Result) != fmt.Sprintf(`{"version":%q,"protocol":1,"ops":["version","getCertificate","sign","signBatch","signPdf","signCms","signXml"]}`, Version) {
		t.Fatalf("version: %s %s", code(r), r.Result)
	}
	for _, o := range []string{"", "null", "file://", "chrome-extension://abcdef", "http://dichvucong.gov.vn",
		"https://evil.example", "https://a.evil.example", "http://localhost:3000", "https://dichvucong.gov.vn/path"} {
		if r := h.call(o, "version", nil); code(r) != "ORIGIN_DENIED" {
			t.Errorf("origin %q: %s", o, code(r))
		}
		if h.e.MayAsk(o) == nil {
			t.Errorf("MayAsk(%q) = nil", o)
		}
	}
	if err := h.e.MayAsk(portal); err != nil {
		t.Fatalf("MayAsk(portal): %v", err)
	}
	if len(h.pr.Calls()) != 0 {
		t.Fatal("version opened a dialog")
	}
}

func TestGetCertificate(t *testing.T) {
	prov := newFakeProvider(t)
	h := newHarness(t, prov, allowPortal)
	h.pr.OnPick(prompttest.Pick(0))
	r := h.call(portal, "getCertificate", map[string]any{})
	if code(r) != "OK" {
		t.Fatalf("getCertificate: %v", r.Error)
	}
	var res struct {
		Certificate, CertificateID, Subject, SerialNumber, NotAfter string
		SignatureAlgorithms                                         []signatureAlgorithm
		Chain                                                       []string
		Token                                                       token.Info
	}
	json.Unmarshal(r.Result, &res)
	der, _ := base64.StdEncoding.DecodeString(res.Certificate)
	sum := sha256.Sum256(der)
	if res.CertificateID != fmt.Sprintf("%x", sum) || res.CertificateID != prov.certs[0].ID {
		t.Fatalf("certificateId %s", res.CertificateID)
	}
	if !strings.Contains(res.Subject, "CN=NGUYỄN VĂN AN") || res.SerialNumber != "1234abcd" ||
		res.Chain == nil || len(res.SignatureAlgorithms) != 14 || res.Token.Label != "fake-token" {
		t.Fatalf("result %s", r.Result)
	}
	calls := h.pr.Calls()
	if len(calls) != 1 || calls[0].Kind != "pick" || calls[0].Origin != portal || len(calls[0].Certs) != 2 ||
		calls[0].Certs[0].Holder != "NGUYỄN VĂN AN" {
		t.Fatalf("dialogs %+v", calls)
	}

	// The issuer filter narrows the picker; a filter matching nothing is NO_CERTIFICATE.
	h.pr.OnPick(prompttest.Pick(0))
	r = h.call(portal, "getCertificate", map[string]any{"filter": map[string]string{"issuer": "other ca"}})
	if code(r) != "OK" || len(h.pr.Calls()[1].Certs) != 1 {
		t.Fatalf("filter: %s %+v", code(r), h.pr.Calls())
	}
	if r := h.call(portal, "getCertificate", map[string]any{"filter": map[string]string{"issuer": "nobody"}}); code(r) != "NO_CERTIFICATE" {
		t.Fatalf("filter nothing: %s", code(r))
	}
	h.pr.OnPick(prompttest.Cancel())
	if r := h.call(portal, "getCertificate", nil); code(r) != "USER_CANCELLED" {
		t.Fatalf("cancel: %s", code(r))
	}
	// No token: the plug-in window; cancelled, NO_TOKEN.
	prov.certs = nil
	h.pr.On(prompttest.KindPlugIn, prompttest.Cancel())
	if r := h.call(portal, "getCertificate", nil); code(r) != "NO_TOKEN" || h.pr.Count(prompttest.KindPlugIn) != 1 {
		t.Fatalf("no token: %s, %d plug-in windows", code(r), h.pr.Count(prompttest.KindPlugIn))
	}
}

func TestSignFlows(t *testing.T) {
	prov := newFakeProvider(t)
	h := newHarness(t, prov, allowPortal)
	rsaID, ecID := prov.certs[0].ID, prov.certs[1].ID
	sum := sha256.Sum256([]byte("tờ khai"))
	hash := base64.StdEncoding.EncodeToString(sum[:])

	// Wrong PIN, then the right one: the dialog reopens with Retry.
	h.pr.OnPIN(prompttest.PIN("000000"), prompttest.PIN("123456"))
	r := h.call(portal, "sign", map[string]any{"certificateId": rsaID, "hash": hash, "hashFunction": "SHA-256",
		"description": "Tờ khai thuế 2025"})
	if code(r) != "OK" {
		t.Fatalf("sign: %v", r.Error)
	}
	var res signResult
	json.Unmarshal(r.Result, &res)
	sig, _ := base64.StdEncoding.DecodeString(res.Signature)
	if err := rsa.VerifyPKCS1v15(&rsaKey.PublicKey, crypto.SHA256, sum[:], sig); err != nil || res.Scheme != token.PKCS1v15 {
		t.Fatalf("signature: %v %s", err, res.Scheme)
	}
	pins := h.pr.PINCalls()
	if len(pins) != 2 || pins[0].Retry || !pins[1].Retry || !pins[1].CountLow ||
		pins[0].Description != "Tờ khai thuế 2025" || pins[0].Holder != "NGUYỄN VĂN AN" || pins[0].Origin != portal || pins[0].Count != 1 {
		t.Fatalf("PIN dialogs %+v", pins)
	}

	// A scheme the key cannot do fails before any dialog.
	n := len(h.pr.Calls())
	r = h.call(portal, "sign", map[string]any{"certificateId": ecID, "hash": hash, "hashFunction": "SHA-256", "scheme": "RSASSA-PSS"})
	if code(r) != "UNSUPPORTED_ALGORITHM" || len(h.pr.Calls()) != n {
		t.Fatalf("EC+PSS: %s, %d dialogs", code(r), len(h.pr.Calls())-n)
	}
	// Unknown certificate.
	r = h.call(portal, "sign", map[string]any{"certificateId": strings.Repeat("ab", 32), "hash": hash, "hashFunction": "SHA-256"})
	if code(r) != "CERTIFICATE_NOT_FOUND" {
		t.Fatalf("unknown cert: %s", code(r))
	}
	// ECDSA signBatch: one PIN, DER signatures in order.
	h.pr.OnPIN(prompttest.PIN("123456"))
	var hashes []string
	var sums [][32]byte
	for i := 0; i < 5; i++ {
		s := sha256.Sum256([]byte{byte(i)})
		sums = append(sums, s)
		hashes = append(hashes, base64.StdEncoding.EncodeToString(s[:]))
	}
	r = h.call(portal, "signBatch", map[string]any{"certificateId": ecID, "hashes": hashes, "hashFunction": "SHA-256"})
	if code(r) != "OK" {
		t.Fatalf("batch: %v", r.Error)
	}
	var bres signBatchResult
	json.Unmarshal(r.Result, &bres)
	for i, s := range bres.Signatures {
		der, _ := base64.StdEncoding.DecodeString(s)
		if !ecdsa.VerifyASN1(&ecKey.PublicKey, sums[i][:], der) {
			t.Fatalf("batch signature %d does not verify", i)
		}
	}
	if last := h.pr.PINCalls(); last[len(last)-1].Count != 5 {
		t.Fatalf("batch PIN dialog count %d", last[len(last)-1].Count)
	}
	// PSS on RSA.
	h.pr.OnPIN(prompttest.PIN("123456"))
	r = h.call(portal, "sign", map[string]any{"certificateId": rsaID, "hash": hash, "hashFunction": "SHA-256", "scheme": "RSASSA-PSS"})
	json.Unmarshal(r.Result, &res)
	sig, _ = base64.StdEncoding.DecodeString(res.Signature)
	if err := rsa.VerifyPSS(&rsaKey.PublicKey, crypto.SHA256, sum[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}); err != nil {
		t.Fatalf("PSS: %v %v", err, r.Error)
	}
	// Cancelled PIN dialog.
	h.pr.OnPIN(prompttest.Cancel())
	if r := h.call(portal, "sign", map[string]any{"certificateId": rsaID, "hash": hash, "hashFunction": "SHA-256"}); code(r) != "USER_CANCELLED" {
		t.Fatalf("cancel: %s", code(r))
	}
	// A token failure carries its CKR_ name.
	prov.signErr = &token.Error{Code: protocol.TokenError, Detail: "CKR_DEVICE_ERROR"}
	h.pr.OnPIN(prompttest.PIN("123456"))
	r = h.call(portal, "sign", map[string]any{"certificateId": rsaID, "hash": hash, "hashFunction": "SHA-256"})
	if code(r) != "TOKEN_ERROR" || r.Error.Detail != "CKR_DEVICE_ERROR" {
		t.Fatalf("token error: %+v", r.Error)
	}
	prov.signErr = &token.Error{Code: protocol.TokenRemoved}
	h.pr.OnPIN(prompttest.PIN("123456"))
	if r := h.call(portal, "sign", map[string]any{"certificateId": rsaID, "hash": hash, "hashFunction": "SHA-256"}); code(r) != "TOKEN_REMOVED" || r.Error.Detail != "" {
		t.Fatalf("removed: %+v", r.Error)
	}
	prov.signErr = nil
	// A locked PIN ends it without a dialog.
	prov.state = token.PINState{Locked: true}
	n = len(h.pr.Calls())
	if r := h.call(portal, "sign", map[string]any{"certificateId": rsaID, "hash": hash, "hashFunction": "SHA-256"}); code(r) != "PIN_LOCKED" || len(h.pr.Calls()) != n {
		t.Fatalf("locked: %s", code(r))
	}
	// The log never holds the PIN, and has one line per request.
	if strings.Contains(h.logs.String(), "123456") || strings.Contains(h.logs.String(), hash) {
		t.Fatal("log holds the PIN or a whole hash")
	}
	if !strings.Contains(h.logs.String(), `"outcome":"PIN_LOCKED"`) {
		t.Fatalf("log: %s", h.logs.String())
	}
}

// A cached PIN only skips typing: every signing operation is confirmed in a
// dialog the person answers (DESIGN, "A cached PIN is not consent";
// SECURITY.md finding 1). Before that fix the second and third signatures
// here were made with no dialog at all.
func TestPINCache(t *testing.T) {
	for _, seconds := range []int{0, 300} {
		t.Run(fmt.Sprint(seconds), func(t *testing.T) {
			prov := newFakeProvider(t)
			h := newHarness(t, prov, allowPortal)
			writeFile(t, h.paths.System, fmt.Sprintf(`{"pinCacheSeconds": %d}`, seconds))
			h.pr.Always("pin", prompttest.PIN("123456")).Always("confirm", prompttest.Sign())
			req := map[string]any{"certificateId": prov.certs[0].ID, "hash": hashB64("x"), "hashFunction": "SHA-256", "description": "Hồ sơ 7"}
			for i := 0; i < 3; i++ {
				if r := h.call(portal, "sign", req); code(r) != "OK" {
					t.Fatal(r.Error)
				}
			}
			wantPIN, wantConfirm := 3, 0
			if seconds > 0 {
				wantPIN, wantConfirm = 1, 2
			}
			if got, conf := h.pr.Count("pin"), h.pr.Count("confirm"); got != wantPIN || conf != wantConfirm {
				t.Fatalf("PIN dialogs %d, confirmations %d; want %d, %d", got, conf, wantPIN, wantConfirm)
			}
			if got := h.pr.Count("pin") + h.pr.Count("confirm"); got != 3 {
				t.Fatalf("%d dialogs for 3 signing operations", got)
			}
			if seconds == 0 {
				return
			}
			c := h.pr.Calls()[len(h.pr.Calls())-1]
			if c.Kind != "confirm" || c.Op.Origin != portal || c.Op.Holder != "NGUYỄN VĂN AN" || c.Op.Description != "Hồ sơ 7" || c.Op.Count != 1 {
				t.Fatalf("the confirmation shows %+v", c.Op)
			}
			// Cancel in the confirmation: nothing signed, and the login is
			// not kept for the next one.
			signed := prov.signed
			h.pr.OnConfirm(prompttest.Cancel())
			if r := h.call(portal, "sign", req); code(r) != "USER_CANCELLED" || prov.signed != signed {
				t.Fatalf("cancelled confirmation: %s, %d signed", code(r), prov.signed-signed)
			}
			if r := h.call(portal, "sign", req); code(r) != "OK" || h.pr.Count("pin") != 2 {
				t.Fatalf("after a cancelled confirmation: %s, %d PIN dialogs", code(r), h.pr.Count("pin"))
			}
			// Another origin asks for its own PIN.
			other := "https://other.gov.vn"
			writeFile(t, h.paths.User, `{"allowedOrigins": ["https://dichvucong.gov.vn", "https://other.gov.vn"]}`)
			h.call(other, "sign", req)
			if got := h.pr.Count("pin"); got != 3 {
				t.Fatalf("other origin: %d PIN dialogs", got)
			}
			// After the window the PIN is asked again.
			h.clock.Add(301 * time.Second)
			h.call(portal, "sign", req)
			if got := h.pr.Count("pin"); got != 4 {
				t.Fatalf("after the window: %d PIN dialogs", got)
			}
			// The token is kept logged in only for what is left of the window.
			h.clock.Add(100 * time.Second)
			h.call(portal, "sign", req)
			if k := prov.closes[len(prov.closes)-1]; k != 200*time.Second {
				t.Fatalf("keep %v", k)
			}
		})
	}
}

func TestApprovalDialog(t *testing.T) {
	prov := newFakeProvider(t)
	h := newHarness(t, prov, "")
	site := "https://hoadon.example.vn"
	// Deny.
	h.pr.OnApprove(prompttest.Approve(prompt.Deny))
	if r := h.call(site, "getCertificate", nil); code(r) != "USER_CANCELLED" || h.pr.Count("pick") != 0 {
		t.Fatalf("deny: %s", code(r))
	}
	// Allow once: this operation only.
	h.pr.OnApprove(prompttest.Approve(prompt.AllowOnce)).OnPick(prompttest.Pick(0))
	if r := h.call(site, "getCertificate", nil); code(r) != "OK" {
		t.Fatalf("once: %v", r.Error)
	}
	h.pr.OnApprove(prompttest.Approve(prompt.AllowAlways)).OnPick(prompttest.Pick(0))
	if r := h.call(site, "getCertificate", nil); code(r) != "OK" || h.pr.Count("approve") != 3 {
		t.Fatalf("always: %v, %d approvals", r.Error, h.pr.Count("approve"))
	}
	fi, err := os.Stat(h.paths.Approvals)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("approvals file: %v %v", err, fi)
	}
	if di, _ := os.Stat(filepath.Dir(h.paths.Approvals)); di.Mode().Perm() != 0o700 {
		t.Fatalf("approvals dir mode %v", di.Mode())
	}
	entries, _ := os.ReadDir(filepath.Dir(h.paths.Approvals))
	if len(entries) != 1 {
		t.Fatalf("files beside approvals: %v", entries)
	}
	// Now allowed without asking.
	h.pr.OnPick(prompttest.Pick(0))
	if r := h.call(site, "getCertificate", nil); code(r) != "OK" || h.pr.Count("approve") != 3 {
		t.Fatalf("after always: %v", r.Error)
	}
	list, err := ListOrigins(h.paths)
	if err != nil || len(list) != 1 || list[0].Origin != site || list[0].Source != "approved" {
		t.Fatalf("list %+v %v", list, err)
	}
	// Revoked: asks again.
	if ok, err := RevokeOrigin(h.paths, site); !ok || err != nil {
		t.Fatalf("revoke %v %v", ok, err)
	}
	h.pr.OnApprove(prompttest.Approve(prompt.Deny))
	h.call(site, "getCertificate", nil)
	if h.pr.Count("approve") != 4 {
		t.Fatal("revoked origin was not asked again")
	}
}

func TestRateLimit(t *testing.T) {
	h := newHarness(t, newFakeProvider(t), allowPortal)
	for i := 0; i < 3; i++ {
		if r := h.call(portal, "getCertificate", nil); code(r) != "USER_CANCELLED" {
			t.Fatalf("cancel %d: %s", i, code(r))
		}
	}
	if r := h.call(portal, "getCertificate", nil); code(r) != "RATE_LIMITED" || h.pr.Count("pick") != 3 {
		t.Fatalf("4th: %s, %d dialogs", code(r), h.pr.Count("pick"))
	}
	// Other origins are not affected; version still answers.
	if r := h.call(portal, "version", nil); code(r) != "OK" {
		t.Fatal(r.Error)
	}
	h.clock.Add(61 * time.Second)
	if r := h.call(portal, "getCertificate", nil); code(r) != "USER_CANCELLED" || h.pr.Count("pick") != 4 {
		t.Fatalf("after a minute: %s", code(r))
	}
}

func TestBusyTimeoutCancel(t *testing.T) {
	prov := newFakeProvider(t)
	h := newHarness(t, prov, allowPortal, func(o *Options) { o.UserTimeout = 200 * time.Millisecond })
	h.pr.Shown = make(chan prompttest.Call, 1)
	req := map[string]any{"certificateId": prov.certs[0].ID, "hash": hashB64("x"), "hashFunction": "SHA-256"}

	// A dialog that nobody answers times out.
	h.pr.OnPIN(prompttest.Block())
	if r := h.call(portal, "sign", req); code(r) != "TIMEOUT" {
		t.Fatalf("timeout: %s", code(r))
	}
	<-h.pr.Shown

	// While a dialog is open, another interactive request is BUSY at once.
	h2 := newHarness(t, prov, allowPortal)
	h2.pr.Shown = make(chan prompttest.Call)
	h2.pr.OnPIN(prompttest.Block())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan reply)
	go func() {
		done <- h2.do(ctx, portal, map[string]any{"id": "first", "op": "sign", "params": req})
	}()
	<-h2.pr.Shown
	if r := h2.call(portal, "getCertificate", nil); code(r) != "BUSY" {
		t.Fatalf("second: %s", code(r))
	}
	if r := h2.call(portal, "version", nil); code(r) != "OK" {
		t.Fatalf("version while busy: %s", code(r))
	}
	// Closing the connection closes the dialog; nothing is signed.
	signed := prov.signed
	cancel()
	if r := <-done; code(r) != "USER_CANCELLED" || r.ID != "first" {
		t.Fatalf("cancelled: %s", code(r))
	}
	if prov.signed != signed {
		t.Fatal("signed after the connection closed")
	}

	// Cancelled in the middle of a batch: signing stops.
	ctx, cancel = context.WithCancel(context.Background())
	h2.pr.Shown = nil
	h2.pr.OnPIN(prompttest.PIN("123456"))
	var n int
	prov.onSign = func() {
		n++
		if n == 3 {
			cancel()
		}
	}
	hashes := make([]string, 50)
	for i := range hashes {
		hashes[i] = hashB64(fmt.Sprint(i))
	}
	r := h2.do(ctx, portal, map[string]any{"id": "b", "op": "signBatch", "params": map[string]any{
		"certificateId": prov.certs[0].ID, "hashes": hashes, "hashFunction": "SHA-256"}})
	prov.onSign = nil
	if code(r) != "USER_CANCELLED" || n != 3 {
		t.Fatalf("batch cancelled: %s after %d signatures", code(r), n)
	}
}

// panicking is a Provider with a bug.
type panicking struct{ token.Provider }

func (panicking) Certificates(context.Context) ([]token.Certificate, error) { panic("boom") }

// A panic under the engine (here a provider's) is the engine's to recover,
// for every front-end: INTERNAL with the request's id and a log reference,
// the gate given back, and the next request served.
func TestPanicIsInternal(t *testing.T) {
	h := newHarness(t, panicking{newFakeProvider(t)}, allowPortal)
	r := h.call(portal, "getCertificate", nil)
	if code(r) != "INTERNAL" || r.ID != "r1" || !strings.Contains(r.Error.Message, "ref ") {
		t.Fatalf("panic: %+v", r)
	}
	if !strings.Contains(h.logs.String(), "engine panic") {
		t.Fatalf("not logged:\n%s", h.logs.String())
	}
	if r := h.call(portal, "version", nil); !r.OK {
		t.Fatalf("after the panic: %+v", r)
	}
	h.pr.OnPick(prompttest.Pick(0))
	if r := h.call(portal, "getCertificate", nil); code(r) != "INTERNAL" {
		t.Fatalf("the gate was not given back: %+v", r)
	}
}
