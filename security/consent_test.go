//go:build linux && cgo

package security

// Consent per operation and dialogs that fail closed, through the shipped
// binary with its real dialogs (issue 16, findings 1, 5 and 11; SECURITY.md).

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"kyso.vn/kyso/internal/testenv"
)

// Finding 1: with pinCacheSeconds (system policy) the PIN is typed once, and
// every later signing operation still shows a confirmation — origin, holder,
// what is signed, no "PIN" in its title, Cancel focused — and signs only on
// Sign. Before the fix the second signature came with no dialog at all.
func TestCachedPINConfirmsEveryTime(t *testing.T) {
	t.Parallel()
	tk := tokens(t)
	display := testenv.Display(t)
	a := testenv.StartAgent(t, testenv.AgentOptions{Tokens: tk, Display: display,
		Config:       map[string]any{"allowedOrigins": []string{portal}, "modules": []string{tk.Module}},
		SystemPolicy: map[string]any{"pinCacheSeconds": 300}})
	c, _, err := a.Dial(portal)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	id := certID(t, testenv.CertRSA)

	send(t, c, req("first", "sign", signParams(id, hashOf("first"))))
	testenv.AnswerPIN(t, display, pinTitle, suitePIN)
	if r := read(t, c); !r.OK {
		t.Fatalf("first: %+v", r.Error)
	}

	hash := hashOf("second")
	send(t, c, req("second", "sign", signParams(id, hash)))
	screenshot(t, display, confirmTitle, "confirm")
	if testenv.HasWindow(t, display, pinTitle) {
		t.Fatal("the confirmation's title says PIN")
	}
	// The registrable domain is shown in capitals (prompt/origin.go).
	if text := faultsDialogText(t, a); !strings.Contains(text, "https://"+strings.ToUpper(strings.TrimPrefix(portal, "https://"))) || !strings.Contains(text, "NGUYỄN VĂN AN") ||
		!strings.Contains(text, "Ký số một tài liệu") || !strings.Contains(text, "--default-cancel") {
		t.Fatalf("the confirmation shows %q", text)
	}
	testenv.PressButton(t, display, confirmTitle, 1) // Sign, one Tab right of Cancel
	r := read(t, c)
	var res struct{ Signature string }
	if !r.OK || json.Unmarshal(r.Result, &res) != nil {
		t.Fatalf("confirmed: %+v", r.Error)
	}

	// A stray Enter cancels (Cancel has the focus): nothing is signed.
	send(t, c, req("third", "sign", signParams(id, hashOf("third"))))
	testenv.Keys(t, display, confirmTitle, "Return")
	if r := read(t, c); r.Code() != "USER_CANCELLED" {
		t.Fatalf("Enter in the confirmation: %+v", r)
	}
	// The cancel logged the token out: the PIN is asked again.
	if r := signWithPIN(t, a, display, portal, "fourth"); !r.OK {
		t.Fatalf("after a cancelled confirmation: %+v", r.Error)
	}
}

// Finding 1: pinCacheSeconds in the user's config has no effect — a PIN
// dialog for every operation — and the log and `kyso doctor` say so.
func TestUserPINCacheIgnored(t *testing.T) {
	t.Parallel()
	tk := tokens(t)
	display := testenv.Display(t)
	a := testenv.StartAgent(t, testenv.AgentOptions{Tokens: tk, Display: display, Config: map[string]any{
		"allowedOrigins": []string{portal}, "modules": []string{tk.Module}, "pinCacheSeconds": 300}})
	for _, id := range []string{"one", "two"} {
		if r := signWithPIN(t, a, display, portal, id); !r.OK {
			t.Fatalf("%s: %+v", id, r.Error)
		}
	}
	agentLog(t, a, `"key":"pinCacheSeconds"`, "the user config sets a key only the system policy may set; it is ignored")
	doctor := faultsKyso(t, a, "doctor", "--config", a.Config)
	if !strings.Contains(doctor, a.Config+`:8 đặt "pinCacheSeconds"`) {
		t.Fatalf("kyso doctor does not warn:\n%s", doctor)
	}
}

// Finding 5: a dialog that times out counts as a decline: one time-out and
// two cancels within the minute, and the origin is RATE_LIMITED with no
// dialog. Before the fix the time-out did not count, and the fourth request
// opened a dialog again (a page looping on time-outs held the one-dialog
// lock for good).
func TestTimeoutCountsAsDecline(t *testing.T) {
	t.Parallel()
	a, display, _ := attack(t, nil)
	c, _, err := a.Dial(portal)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	id := certID(t, testenv.CertRSA)
	send(t, c, req("ignored", "sign", signParams(id, hashOf("ignored"))))
	testenv.WaitWindow(t, display, pinTitle)
	if r := read(t, c); r.Code() != "TIMEOUT" { // nobody answers for 120 s
		t.Fatalf("unanswered: %+v", r)
	}
	for _, rid := range []string{"no-1", "no-2"} {
		send(t, c, req(rid, "sign", signParams(id, hashOf(rid))))
		testenv.Cancel(t, display, pinTitle)
		if r := read(t, c); r.Code() != "USER_CANCELLED" {
			t.Fatalf("%s: %+v", rid, r)
		}
	}
	if r := call(t, c, req("limited", "sign", signParams(id, hashOf("limited")))); r.Code() != "RATE_LIMITED" {
		t.Fatalf("after a time-out and two cancels: %+v", r)
	}
	if testenv.HasWindow(t, display, "^Kyso") {
		t.Fatal("a dialog opened for a rate-limited origin")
	}
}

// Finding 11: where no dialog can be shown (no desktop session), nothing is
// allowed and the page is told NO_DIALOG — not USER_CANCELLED, which says
// the person declined. Before the fix zenity's "cannot open display" read
// as Cancel.
func TestNoDisplayNoDialog(t *testing.T) {
	t.Parallel()
	tk := tokens(t)
	a := testenv.StartAgent(t, testenv.AgentOptions{Tokens: tk, Config: map[string]any{
		"allowedOrigins": []string{portal}, "modules": []string{tk.Module}}})
	id := certID(t, testenv.CertRSA)
	for _, origin := range []string{portal, "https://moi.example.vn"} { // the PIN dialog; the consent dialog
		c, _, err := a.Dial(origin)
		if err != nil {
			t.Fatal(err)
		}
		r := call(t, c, req("nd", "sign", signParams(id, hashOf(origin))))
		c.Close()
		if r.Code() != "NO_DIALOG" || r.Result != nil {
			t.Fatalf("%s without a display: %+v", origin, r)
		}
	}
	agentLog(t, a, `"outcome":"NO_DIALOG"`)
}

// Finding 11: a dialog program that fails — exits with a status zenity
// never gives for an answer, dies of a signal, or keeps answering nothing —
// is NO_DIALOG for the consent and the PIN dialogs, never consent. (On
// Windows and macOS the same mapping is unit-tested in prompt; the Windows
// build runs under Wine in wine/TestWindowsBuildUnderWine.)
func TestBrokenDialogProgram(t *testing.T) {
	t.Parallel()
	stub := t.TempDir()
	behaviour := filepath.Join(stub, "behaviour")
	script := "#!/bin/sh\nexec sh -c \"$(cat '" + behaviour + "')\"\n"
	if err := os.WriteFile(filepath.Join(stub, "zenity"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	tk := tokens(t)
	display := testenv.Display(t) // a display there is: the program is what fails
	// A NO_DIALOG counts toward the rate limit (a page must not make Kyso
	// start a broken program in a loop): one origin of each kind per case.
	allowed := []string{"https://dv0.gov.vn", "https://dv1.gov.vn", "https://dv2.gov.vn", "https://dv3.gov.vn", "https://dv4.gov.vn"}
	a := testenv.StartAgent(t, testenv.AgentOptions{Tokens: tk, Display: display, Config: map[string]any{
		"allowedOrigins": allowed, "modules": []string{tk.Module}},
		Env: []string{"PATH=" + stub + ":" + os.Getenv("PATH")}})
	id := certID(t, testenv.CertRSA)
	// "echo": status 0 with nothing typed, at once, again and again (for
	// the consent question status 0 is the OK button — zenity's contract —
	// and the PIN dialog then gets nothing).
	for i, b := range []string{"exit 3", "exit 5", "exit 255", "kill -9 $$", "echo"} {
		if err := os.WriteFile(behaviour, []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, origin := range []string{allowed[i], "https://moi" + strconv.Itoa(i) + ".example.vn"} {
			c, _, err := a.Dial(origin)
			if err != nil {
				t.Fatal(err)
			}
			r := call(t, c, req("stub", "sign", signParams(id, hashOf(b+origin))))
			c.Close()
			if r.Code() != "NO_DIALOG" {
				t.Fatalf("dialog program %q, %s: %+v", b, origin, r.Error)
			}
		}
	}
}
