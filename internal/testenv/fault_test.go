package testenv

import (
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/miekg/pkcs11"
)

// faultCtx provisions the tokens and loads the fault module over them with a
// fresh control file.
func faultCtx(t *testing.T) (*Tokens, *Fault, *pkcs11.Ctx) {
	t.Helper()
	tk := Shared(t)
	f := NewFault(t)
	return tk, f, p11(t, FaultModule(t))
}

func wantCKR(t *testing.T, what string, err error, ckr uint) {
	t.Helper()
	var e pkcs11.Error
	if !errors.As(err, &e) || uint(e) != ckr {
		t.Fatalf("%s: got %v, want %v", what, err, pkcs11.Error(ckr))
	}
}

func tokenFlags(t *testing.T, ctx *pkcs11.Ctx, slot uint) uint {
	t.Helper()
	ti, err := ctx.GetTokenInfo(slot)
	if err != nil {
		t.Fatalf("C_GetTokenInfo: %v", err)
	}
	return ti.Flags
}

const pinFlags = pkcs11.CKF_USER_PIN_COUNT_LOW | pkcs11.CKF_USER_PIN_FINAL_TRY | pkcs11.CKF_USER_PIN_LOCKED

func TestFaultPassThrough(t *testing.T) {
	tk, _, ctx := faultCtx(t)
	slots := slotsByLabel(t, ctx)
	if len(slots) != 4 {
		t.Fatalf("tokens through the fault module: %v", slots)
	}
	hash := sha256.Sum256([]byte("qua module lỗi"))
	verifyHash(t, tk.CertFile(CertEC), hash[:], signWith(t, ctx, slots[LabelEC], "01", hash[:]))
	verifyHash(t, tk.CertFile(CertRSA), hash[:], signWith(t, ctx, slots[LabelRSA], "01", hash[:]))
}

func TestFaultRemoved(t *testing.T) {
	_, f, ctx := faultCtx(t)
	slots := slotsByLabel(t, ctx)
	slot := slots[LabelEC]
	old, err := ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		t.Fatal(err)
	}
	if err := ctx.Login(old, pkcs11.CKU_USER, PIN); err != nil {
		t.Fatal(err)
	}

	f.Set("removed=" + LabelEC)
	now := slotsByLabel(t, ctx)
	if _, ok := now[LabelEC]; ok || len(now) != 3 {
		t.Fatalf("after removing %s: %v", LabelEC, now)
	}
	all, err := ctx.GetSlotList(false)
	if err != nil || !containsSlot(all, slot) {
		t.Fatalf("the slot itself must stay listed: %v %v", all, err)
	}
	si, err := ctx.GetSlotInfo(slot)
	if err != nil || si.Flags&pkcs11.CKF_TOKEN_PRESENT != 0 {
		t.Fatalf("C_GetSlotInfo: flags %#x, %v", si.Flags, err)
	}
	_, err = ctx.GetTokenInfo(slot)
	wantCKR(t, "C_GetTokenInfo", err, pkcs11.CKR_TOKEN_NOT_PRESENT)
	_, err = ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
	wantCKR(t, "C_OpenSession", err, pkcs11.CKR_TOKEN_NOT_PRESENT)
	err = ctx.FindObjectsInit(old, nil)
	wantCKR(t, "C_FindObjectsInit on an old session", err, pkcs11.CKR_DEVICE_REMOVED)

	f.Set("removed=0") // plugged in again
	if _, ok := slotsByLabel(t, ctx)[LabelEC]; !ok {
		t.Fatal("token not back after removed=0")
	}
	err = ctx.FindObjectsInit(old, nil)
	wantCKR(t, "old session after re-insertion", err, pkcs11.CKR_SESSION_HANDLE_INVALID)
	sh, err := ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		t.Fatalf("C_OpenSession after re-insertion: %v", err)
	}
	info, err := ctx.GetSessionInfo(sh)
	if err != nil || info.State != pkcs11.CKS_RO_PUBLIC_SESSION {
		t.Fatalf("removal must log the token out: state %d, %v", info.State, err)
	}
	ctx.CloseSession(sh)

	f.Set("removed=1")
	if now := slotsByLabel(t, ctx); len(now) != 0 {
		t.Fatalf("removed=1 leaves %v", now)
	}
	f.Reset()
	if now := slotsByLabel(t, ctx); len(now) != 4 {
		t.Fatalf("after Reset: %v", now)
	}
}

func containsSlot(s []uint, x uint) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func TestFaultRemoveOnSign(t *testing.T) {
	_, f, ctx := faultCtx(t)
	slot := slotsByLabel(t, ctx)[LabelRSA]
	sh, err := ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		t.Fatal(err)
	}
	if err := ctx.Login(sh, pkcs11.CKU_USER, PIN); err != nil {
		t.Fatal(err)
	}
	hash := sha256.Sum256([]byte("rút token giữa chừng"))
	key, mech, in := findKey(t, ctx, sh, "01", hash[:])
	if err := ctx.SignInit(sh, mech, key); err != nil {
		t.Fatal(err)
	}
	f.Set("remove_on_sign=1")
	_, err = ctx.Sign(sh, in)
	wantCKR(t, "C_Sign", err, pkcs11.CKR_DEVICE_REMOVED)
	// It stays out, for this token only, until the control file is rewritten.
	now := slotsByLabel(t, ctx)
	if _, ok := now[LabelRSA]; ok || len(now) != 3 {
		t.Fatalf("after removal mid-sign: %v", now)
	}
	_, err = ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
	wantCKR(t, "C_OpenSession", err, pkcs11.CKR_TOKEN_NOT_PRESENT)
	st, err := os.ReadFile(f.State)
	if err != nil || !strings.Contains(string(st), "|"+LabelRSA) {
		t.Fatalf("state file: %q, %v", st, err)
	}

	f.Set() // plugged in again
	if _, ok := slotsByLabel(t, ctx)[LabelRSA]; !ok {
		t.Fatal("token not back after the control file changed")
	}
	// With remove_on_sign still set, C_SignInit is the "next" signing call.
	f.Set("remove_on_sign=1")
	sh, err = ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		t.Fatal(err)
	}
	if err := ctx.Login(sh, pkcs11.CKU_USER, PIN); err != nil {
		t.Fatal(err)
	}
	key, mech, _ = findKey(t, ctx, sh, "01", hash[:])
	wantCKR(t, "C_SignInit", ctx.SignInit(sh, mech, key), pkcs11.CKR_DEVICE_REMOVED)
	f.Reset()
}

func TestFaultPINFlags(t *testing.T) {
	_, f, ctx := faultCtx(t)
	slot := slotsByLabel(t, ctx)[LabelTwo]
	if fl := tokenFlags(t, ctx, slot); fl&pinFlags != 0 {
		t.Fatalf("no fault: PIN flags %#x", fl&pinFlags)
	}
	f.Set("pin_flags=count_low,final_try")
	if fl := tokenFlags(t, ctx, slot); fl&pinFlags != pkcs11.CKF_USER_PIN_COUNT_LOW|pkcs11.CKF_USER_PIN_FINAL_TRY {
		t.Fatalf("count_low,final_try: PIN flags %#x", fl&pinFlags)
	}
	f.Set("pin_flags=locked")
	if fl := tokenFlags(t, ctx, slot); fl&pinFlags != pkcs11.CKF_USER_PIN_LOCKED {
		t.Fatalf("locked: PIN flags %#x", fl&pinFlags)
	}
	sh, err := ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.CloseSession(sh)
	wantCKR(t, "C_Login with the right PIN on a locked token", ctx.Login(sh, pkcs11.CKU_USER, PIN), pkcs11.CKR_PIN_LOCKED)
	f.Reset()
	if err := ctx.Login(sh, pkcs11.CKU_USER, PIN); err != nil {
		t.Fatalf("C_Login after Reset: %v", err)
	}
	ctx.Logout(sh)
}

func TestFaultLockAfter(t *testing.T) {
	_, f, ctx := faultCtx(t)
	slot := slotsByLabel(t, ctx)[LabelRSA3072]
	sh, err := ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.CloseSession(sh)
	f.Set("lock_after=3")
	wrong := func(want uint) {
		t.Helper()
		wantCKR(t, "wrong PIN", ctx.Login(sh, pkcs11.CKU_USER, "000000"), pkcs11.CKR_PIN_INCORRECT)
		if fl := tokenFlags(t, ctx, slot) & pinFlags; fl != want {
			t.Fatalf("PIN flags %#x, want %#x", fl, want)
		}
	}
	wrong(pkcs11.CKF_USER_PIN_COUNT_LOW)
	wrong(pkcs11.CKF_USER_PIN_COUNT_LOW | pkcs11.CKF_USER_PIN_FINAL_TRY)
	// A right PIN before the lock resets the count.
	if err := ctx.Login(sh, pkcs11.CKU_USER, PIN); err != nil {
		t.Fatalf("right PIN: %v", err)
	}
	ctx.Logout(sh)
	if fl := tokenFlags(t, ctx, slot) & pinFlags; fl != 0 {
		t.Fatalf("after a right PIN: flags %#x", fl)
	}
	wrong(pkcs11.CKF_USER_PIN_COUNT_LOW)
	wrong(pkcs11.CKF_USER_PIN_COUNT_LOW | pkcs11.CKF_USER_PIN_FINAL_TRY)
	wrong(pkcs11.CKF_USER_PIN_LOCKED) // the 3rd wrong PIN locks
	wantCKR(t, "right PIN once locked", ctx.Login(sh, pkcs11.CKU_USER, PIN), pkcs11.CKR_PIN_LOCKED)
	// The count lives in the state file, so other processes see it too.
	st, err := os.ReadFile(f.State)
	if err != nil || !strings.Contains(string(st), "wrong=3") {
		t.Fatalf("state file: %q, %v", st, err)
	}
	f.Reset()
	if err := ctx.Login(sh, pkcs11.CKU_USER, PIN); err != nil {
		t.Fatalf("right PIN after Reset: %v", err)
	}
	ctx.Logout(sh)
}

func TestFaultAlwaysAuthenticate(t *testing.T) {
	tk, f, ctx := faultCtx(t)
	slot := slotsByLabel(t, ctx)[LabelEC]
	sh, err := ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.CloseSession(sh)
	if err := ctx.Login(sh, pkcs11.CKU_USER, PIN); err != nil {
		t.Fatal(err)
	}
	defer ctx.Logout(sh)
	hash := sha256.Sum256([]byte("đăng nhập theo ngữ cảnh"))
	key, mech, in := findKey(t, ctx, sh, "01", hash[:])
	alwaysAuth := func() bool {
		a, err := ctx.GetAttributeValue(sh, key, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_ALWAYS_AUTHENTICATE, nil)})
		if err != nil {
			t.Fatalf("CKA_ALWAYS_AUTHENTICATE: %v", err)
		}
		return len(a[0].Value) == 1 && a[0].Value[0] != 0
	}
	if alwaysAuth() {
		t.Fatal("CKA_ALWAYS_AUTHENTICATE without the fault")
	}
	f.Set("always_authenticate=1")
	if !alwaysAuth() {
		t.Fatal("CKA_ALWAYS_AUTHENTICATE not reported")
	}

	// Without the context-specific login, C_Sign fails and ends the operation.
	if err := ctx.SignInit(sh, mech, key); err != nil {
		t.Fatal(err)
	}
	_, err = ctx.Sign(sh, in)
	wantCKR(t, "C_Sign without context-specific login", err, pkcs11.CKR_USER_NOT_LOGGED_IN)

	// A wrong PIN is refused; the right one lets exactly one C_Sign through.
	if err := ctx.SignInit(sh, mech, key); err != nil {
		t.Fatalf("C_SignInit after the failed C_Sign: %v", err)
	}
	wantCKR(t, "wrong context PIN", ctx.Login(sh, pkcs11.CKU_CONTEXT_SPECIFIC, "999999"), pkcs11.CKR_PIN_INCORRECT)
	if err := ctx.Login(sh, pkcs11.CKU_CONTEXT_SPECIFIC, PIN); err != nil {
		t.Fatalf("context-specific login: %v", err)
	}
	sig, err := ctx.Sign(sh, in)
	if err != nil {
		t.Fatalf("C_Sign after context-specific login: %v", err)
	}
	verifyHash(t, tk.CertFile(CertEC), hash[:], sig)

	if err := ctx.SignInit(sh, mech, key); err != nil {
		t.Fatal(err)
	}
	_, err = ctx.Sign(sh, in)
	wantCKR(t, "second C_Sign reusing the first login", err, pkcs11.CKR_USER_NOT_LOGGED_IN)
	f.Reset()
	// The PIN check left the token as it was: no wrong-PIN mark behind.
	if fl := tokenFlags(t, ctx, slot) & pinFlags; fl != 0 {
		t.Fatalf("PIN flags after the test: %#x", fl)
	}
}

// A child process (as kyso serve/host would be) inherits the environment and
// sees the same faults, and the wrong-PIN count a parent left.
func TestFaultAcrossProcesses(t *testing.T) {
	_, f, ctx := faultCtx(t)
	slot := slotsByLabel(t, ctx)[LabelTwo]
	sh, err := ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.CloseSession(sh)
	f.Set("lock_after=1", "removed="+LabelEC)
	wantCKR(t, "wrong PIN", ctx.Login(sh, pkcs11.CKU_USER, "000000"), pkcs11.CKR_PIN_INCORRECT)

	out, err := exec.Command("pkcs11-tool", "--module", FaultModule(t), "-T").CombinedOutput()
	if err != nil {
		t.Fatalf("pkcs11-tool: %v\n%s", err, out)
	}
	s := string(out)
	if strings.Contains(s, LabelEC) || !strings.Contains(s, LabelTwo) {
		t.Errorf("child lists the removed token, or not the others:\n%s", s)
	}
	if !strings.Contains(s, "user PIN locked") {
		t.Errorf("child does not see the PIN locked:\n%s", s)
	}
	f.Reset()
	if err := ctx.Login(sh, pkcs11.CKU_USER, PIN); err != nil {
		t.Fatalf("right PIN after Reset: %v", err)
	}
	ctx.Logout(sh)
}

// session opens a session on slot, closed at the end of the test.
func session(t *testing.T, ctx *pkcs11.Ctx, slot uint) pkcs11.SessionHandle {
	t.Helper()
	sh, err := ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		t.Fatalf("C_OpenSession: %v", err)
	}
	t.Cleanup(func() { ctx.CloseSession(sh) })
	return sh
}

// timed runs f and returns how long it took.
func timed(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}

// A slow token: each call that talks to the chip takes at least what was
// asked (lower bounds only: speed is measured by make bench, not here).
func TestFaultSlow(t *testing.T) {
	tk, f, ctx := faultCtx(t)
	slot := slotsByLabel(t, ctx)[LabelRSA]
	slow := Slow{Sign: 130 * time.Millisecond, Login: 60 * time.Millisecond, Find: 40 * time.Millisecond, Attr: 25 * time.Millisecond}
	f.SetSlow(slow)
	sh := session(t, ctx, slot)
	if d := timed(func() {
		if err := ctx.Login(sh, pkcs11.CKU_USER, PIN); err != nil {
			t.Fatal(err)
		}
	}); d < slow.Login {
		t.Errorf("C_Login took %v, want ≥ %v", d, slow.Login)
	}
	defer ctx.Logout(sh)
	if err := ctx.FindObjectsInit(sh, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE)}); err != nil {
		t.Fatal(err)
	}
	var objs []pkcs11.ObjectHandle
	if d := timed(func() { objs, _, _ = ctx.FindObjects(sh, 10) }); d < slow.Find || len(objs) == 0 {
		t.Errorf("C_FindObjects took %v (%d objects), want ≥ %v", d, len(objs), slow.Find)
	}
	ctx.FindObjectsFinal(sh)
	// miekg/pkcs11 asks for the length, then the value: two calls.
	if d := timed(func() {
		if _, err := ctx.GetAttributeValue(sh, objs[0], []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil)}); err != nil {
			t.Fatal(err)
		}
	}); d < 2*slow.Attr {
		t.Errorf("C_GetAttributeValue ×2 took %v, want ≥ %v", d, 2*slow.Attr)
	}
	hash := sha256.Sum256([]byte("token chậm"))
	key, mech, in := findKey(t, ctx, sh, "01", hash[:])
	for i := 0; i < 3; i++ {
		if err := ctx.SignInit(sh, mech, key); err != nil {
			t.Fatal(err)
		}
		var sig []byte
		d := timed(func() {
			var err error
			if sig, err = ctx.Sign(sh, in); err != nil {
				t.Fatal(err)
			}
		})
		if d < slow.Sign {
			t.Errorf("C_Sign took %v, want ≥ %v", d, slow.Sign)
		}
		t.Logf("C_Sign at sign_delay_ms=130: %v", d)
		verifyHash(t, tk.CertFile(CertRSA), hash[:], sig)
	}
	f.SetSignDelay(0) // the other delays stay
	if b, _ := os.ReadFile(f.Control); string(b) != "login_delay_ms=60\nfind_delay_ms=40\nattr_delay_ms=25\n" {
		t.Errorf("control after SetSignDelay(0): %q", b)
	}
}

func TestFaultAbsentThenPresent(t *testing.T) {
	_, f, ctx := faultCtx(t)
	slot := slotsByLabel(t, ctx)[LabelRSA]
	f.Unplug()
	if now := slotsByLabel(t, ctx); len(now) != 0 {
		t.Fatalf("unplugged, still listed: %v", now)
	}
	if all, err := ctx.GetSlotList(false); err != nil || !containsSlot(all, slot) {
		t.Fatalf("the reader (slot) stays: %v %v", all, err)
	}
	si, err := ctx.GetSlotInfo(slot)
	if err != nil || si.Flags&pkcs11.CKF_TOKEN_PRESENT != 0 {
		t.Fatalf("C_GetSlotInfo while absent: flags %#x, %v", si.Flags, err)
	}
	f.PlugIn()
	if now := slotsByLabel(t, ctx); len(now) != 4 {
		t.Fatalf("plugged in: %v", now)
	}

	// Present by itself d after the first slot listing: polling sees it come.
	const d = 300 * time.Millisecond
	f.PlugInAfter(d)
	time.Sleep(d) // the clock starts at the first listing, not at the write
	start := time.Now()
	polls := 0
	for ; len(slotsByLabel(t, ctx)) == 0; polls++ {
		if time.Since(start) > 10*time.Second {
			t.Fatal("token never came")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if came := time.Since(start); came < d || polls < 2 {
		t.Errorf("token came after %v and %d polls, want ≥ %v", came, polls, d)
	}
	st, err := os.ReadFile(f.State)
	if err != nil || !strings.Contains(string(st), "plug=") {
		t.Errorf("state file: %q, %v", st, err)
	}
	// A child process sees it too: the start is in the state file.
	out, err := exec.Command("pkcs11-tool", "--module", FaultModule(t), "-T").CombinedOutput()
	if err != nil || !strings.Contains(string(out), LabelRSA) {
		t.Errorf("pkcs11-tool after the plug-in: %v\n%s", err, out)
	}
	f.PlugIn()
}

func TestFaultPINPad(t *testing.T) {
	tk, f, ctx := faultCtx(t)
	slot := slotsByLabel(t, ctx)[LabelRSA]
	sh := session(t, ctx, slot)
	loggedIn := func() bool {
		info, err := ctx.GetSessionInfo(sh)
		if err != nil {
			t.Fatal(err)
		}
		return info.State == pkcs11.CKS_RO_USER_FUNCTIONS
	}
	if tokenFlags(t, ctx, slot)&pkcs11.CKF_PROTECTED_AUTHENTICATION_PATH != 0 {
		t.Fatal("PIN pad without the fault")
	}
	const typing = 150 * time.Millisecond
	f.LockAfter(3)
	f.PINPad(PadOK, typing)
	if tokenFlags(t, ctx, slot)&pkcs11.CKF_PROTECTED_AUTHENTICATION_PATH == 0 {
		t.Fatal("no CKF_PROTECTED_AUTHENTICATION_PATH")
	}
	wantCKR(t, "C_Login with a PIN on a pad token", ctx.Login(sh, pkcs11.CKU_USER, PIN), pkcs11.CKR_ARGUMENTS_BAD)
	if d := timed(func() {
		if err := ctx.Login(sh, pkcs11.CKU_USER, ""); err != nil {
			t.Fatalf("C_Login(NULL) on the pad: %v", err)
		}
	}); d < typing || !loggedIn() {
		t.Fatalf("pad login took %v (want ≥ %v), logged in %v", d, typing, loggedIn())
	}
	hash := sha256.Sum256([]byte("nhập PIN trên bàn phím đầu đọc"))
	key, mech, in := findKey(t, ctx, sh, "01", hash[:])
	if err := ctx.SignInit(sh, mech, key); err != nil {
		t.Fatal(err)
	}
	sig, err := ctx.Sign(sh, in)
	if err != nil {
		t.Fatal(err)
	}
	verifyHash(t, tk.CertFile(CertRSA), hash[:], sig)
	ctx.Logout(sh)

	// Wrong PINs on the pad count like typed ones.
	f.PINPad(PadWrong, 0)
	wantCKR(t, "wrong PIN on the pad", ctx.Login(sh, pkcs11.CKU_USER, ""), pkcs11.CKR_PIN_INCORRECT)
	if fl := tokenFlags(t, ctx, slot) & pinFlags; fl != pkcs11.CKF_USER_PIN_COUNT_LOW {
		t.Fatalf("after 1 wrong: flags %#x", fl)
	}
	wantCKR(t, "wrong PIN on the pad", ctx.Login(sh, pkcs11.CKU_USER, ""), pkcs11.CKR_PIN_INCORRECT)
	if fl := tokenFlags(t, ctx, slot) & pinFlags; fl != pkcs11.CKF_USER_PIN_COUNT_LOW|pkcs11.CKF_USER_PIN_FINAL_TRY {
		t.Fatalf("after 2 wrong: flags %#x", fl)
	}
	// The outcome is read when the typing ends: changed while the person types.
	f.PINPad(PadWrong, 400*time.Millisecond)
	done := make(chan error)
	go func() { done <- ctx.Login(sh, pkcs11.CKU_USER, "") }()
	time.Sleep(100 * time.Millisecond)
	f.PINPad(PadOK, 400*time.Millisecond)
	if err := <-done; err != nil || !loggedIn() {
		t.Fatalf("outcome changed to ok during the typing: %v", err)
	}
	ctx.Logout(sh)
	if fl := tokenFlags(t, ctx, slot) & pinFlags; fl != 0 {
		t.Fatalf("a right PIN resets the count: flags %#x", fl)
	}

	f.PINPad(PadCancel, 0)
	wantCKR(t, "Cancel on the pad", ctx.Login(sh, pkcs11.CKU_USER, ""), pkcs11.CKR_FUNCTION_CANCELED)

	f.PINPad(PadLocked, 0)
	wantCKR(t, "pad locks", ctx.Login(sh, pkcs11.CKU_USER, ""), pkcs11.CKR_PIN_LOCKED)
	if fl := tokenFlags(t, ctx, slot) & pinFlags; fl != pkcs11.CKF_USER_PIN_LOCKED {
		t.Fatalf("after the pad locked: flags %#x", fl)
	}
	f.PINPad(PadOK, 0)
	wantCKR(t, "locked stays locked", ctx.Login(sh, pkcs11.CKU_USER, ""), pkcs11.CKR_PIN_LOCKED)

	// Context-specific login on a pad: no PIN either.
	f.Reset()
	f.Set("always_authenticate=1")
	f.PINPad(PadOK, 0)
	if err := ctx.Login(sh, pkcs11.CKU_USER, ""); err != nil {
		t.Fatal(err)
	}
	key, mech, in = findKey(t, ctx, sh, "01", hash[:]) // handles die at logout
	if err := ctx.SignInit(sh, mech, key); err != nil {
		t.Fatal(err)
	}
	wantCKR(t, "context login with a PIN on a pad", ctx.Login(sh, pkcs11.CKU_CONTEXT_SPECIFIC, PIN), pkcs11.CKR_ARGUMENTS_BAD)
	if err := ctx.Login(sh, pkcs11.CKU_CONTEXT_SPECIFIC, ""); err != nil {
		t.Fatalf("context login on the pad: %v", err)
	}
	if sig, err = ctx.Sign(sh, in); err != nil {
		t.Fatal(err)
	}
	verifyHash(t, tk.CertFile(CertRSA), hash[:], sig)
	ctx.Logout(sh)

	f.NoPINPad()
	if tokenFlags(t, ctx, slot)&pkcs11.CKF_PROTECTED_AUTHENTICATION_PATH != 0 {
		t.Fatal("PIN pad after NoPINPad")
	}
	f.Reset()
	if fl := tokenFlags(t, ctx, slot) & pinFlags; fl != 0 {
		t.Fatalf("PIN flags after the test: %#x", fl)
	}
}

func TestFaultHang(t *testing.T) {
	tk, f, ctx := faultCtx(t)
	slots := slotsByLabel(t, ctx)
	hash := sha256.Sum256([]byte("token treo"))

	f.Hang()
	type result struct {
		sig []byte
		err error
	}
	done := make(chan result)
	go func() {
		sig, err := signErr(ctx, slots[LabelRSA], "01", hash[:])
		done <- result{sig, err}
	}()
	f.WaitHung(t, 1, 10*time.Second)
	// Stuck in C_Sign; other calls of the module go on meanwhile.
	if now := slotsByLabel(t, ctx); len(now) != 4 {
		t.Errorf("slot listing while a C_Sign hangs: %v", now)
	}
	select {
	case <-done:
		t.Fatal("C_Sign returned while hung")
	case <-time.After(200 * time.Millisecond):
	}
	f.Release()
	r := <-done
	if r.err != nil {
		t.Fatalf("released C_Sign: %v", r.err)
	}
	verifyHash(t, tk.CertFile(CertRSA), hash[:], r.sig)
	if n := f.Hung(); n != 0 {
		t.Errorf("hung after Release: %d", n)
	}
	// Later calls work, and do not hang.
	verifyHash(t, tk.CertFile(CertEC), hash[:], signWith(t, ctx, slots[LabelEC], "01", hash[:]))

	// C_Login and C_GetSlotList hang the same way.
	f.Hang("C_Login", "C_GetSlotList")
	sh := session(t, ctx, slots[LabelTwo])
	errc := make(chan error)
	go func() { errc <- ctx.Login(sh, pkcs11.CKU_USER, PIN) }()
	go func() { _, err := ctx.GetSlotList(true); errc <- err }()
	f.WaitHung(t, 2, 10*time.Second)
	f.Release()
	for i := 0; i < 2; i++ {
		if err := <-errc; err != nil {
			t.Errorf("released call: %v", err)
		}
	}
	ctx.Logout(sh)

	// hang_ms bounds the hang; hang_result is what the call then returns
	// (a module whose own time-out fired).
	f.Knob("hang", "C_GetSlotList", "hang_ms", "150", "hang_result", "CKR_DEVICE_ERROR")
	var err error
	if d := timed(func() { _, err = ctx.GetSlotList(true) }); d < 150*time.Millisecond {
		t.Errorf("bounded hang took %v", d)
	}
	wantCKR(t, "C_GetSlotList after hang_ms", err, pkcs11.CKR_DEVICE_ERROR)
	f.Release()
	if now := slotsByLabel(t, ctx); len(now) != 4 {
		t.Errorf("after the bounded hang: %v", now)
	}
}

func TestFaultySignatures(t *testing.T) {
	tk, f, ctx := faultCtx(t)
	slots := slotsByLabel(t, ctx)
	hash := sha256.Sum256([]byte("chữ ký lỗi"))
	sign := func() error {
		return verifyErr(tk.CertFile(CertRSA), hash[:], signWith(t, ctx, slots[LabelRSA], "01", hash[:]))
	}
	f.FaultySignatures(1)
	if err := sign(); !errors.Is(err, rsa.ErrVerification) {
		t.Fatalf("faulty signature: rsa.VerifyPKCS1v15 says %v", err)
	}
	if err := sign(); err != nil {
		t.Fatalf("only one was to be faulty: %v", err)
	}
	f.FaultySignatures(-1)
	for i := 0; i < 2; i++ {
		if err := sign(); !errors.Is(err, rsa.ErrVerification) {
			t.Fatalf("faulty signature %d: %v", i, err)
		}
	}
	if err := verifyErr(tk.CertFile(CertEC), hash[:], signWith(t, ctx, slots[LabelEC], "01", hash[:])); err == nil {
		t.Fatal("faulty ECDSA signature verifies")
	}
	f.FaultySignatures(0)
	if err := sign(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkFaultSlowSign is the floor for a batch on a slow token: raw
// C_SignInit + C_Sign of RSA-2048 on one logged-in session, through the
// fault module at sign_delay_ms 0 (SoftHSM's own time plus the module's
// control-file read) and 130. For the figures in docs/testdata.md:
//
//	go test -run '^$' -bench FaultSlowSign -benchtime 1000x ./internal/testenv/
func BenchmarkFaultSlowSign(b *testing.B) {
	for _, delay := range []time.Duration{0, 130 * time.Millisecond} {
		b.Run(fmt.Sprintf("delay=%v", delay), func(b *testing.B) {
			Shared(b)
			f := NewFault(b)
			ctx := p11(b, FaultModule(b))
			sh, err := ctx.OpenSession(slotsByLabel(b, ctx)[LabelRSA], pkcs11.CKF_SERIAL_SESSION)
			if err != nil {
				b.Fatal(err)
			}
			defer ctx.CloseSession(sh)
			if err := ctx.Login(sh, pkcs11.CKU_USER, PIN); err != nil {
				b.Fatal(err)
			}
			defer ctx.Logout(sh)
			hash := sha256.Sum256([]byte("lô 1000 chữ ký"))
			key, mech, in, err := findKeyErr(ctx, sh, "01", hash[:])
			if err != nil {
				b.Fatal(err)
			}
			f.SetSignDelay(delay)
			var worst time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				if err := ctx.SignInit(sh, mech, key); err != nil {
					b.Fatal(err)
				}
				if _, err := ctx.Sign(sh, in); err != nil {
					b.Fatal(err)
				}
				worst = max(worst, time.Since(start))
			}
			b.StopTimer()
			per := b.Elapsed() / time.Duration(b.N)
			b.ReportMetric(float64(per.Microseconds())/1000, "ms/sig")
			b.ReportMetric(float64((per-delay).Microseconds())/1000, "ms-over-delay/sig")
			b.ReportMetric(float64(worst.Microseconds())/1000, "ms-worst")
		})
	}
}
