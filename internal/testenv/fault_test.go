package testenv

import (
	"crypto/sha256"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

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
