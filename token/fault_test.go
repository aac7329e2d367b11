package token_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/internal/testenv"
	"kyso.vn/kyso/token"
)

// faulty returns a provider over the fault module (forwarding to the shared
// SoftHSM tokens) and its control.
func faulty(t *testing.T) (*token.PKCS11, *testenv.Fault, *testenv.Tokens) {
	t.Helper()
	tk := testenv.Shared(t)
	f := testenv.NewFault(t)
	t.Cleanup(f.Reset)
	p := token.NewPKCS11(token.PKCS11Options{Modules: []string{testenv.FaultModule(t)}, NoDiscovery: true, Log: zerolog.Nop()})
	return p, f, tk
}

func TestFaultWrongPINThenLocked(t *testing.T) {
	p, f, tk := faulty(t)
	f.Set("lock_after=3")
	c := certByFile(t, p, tk, testenv.CertEC)
	k, err := p.Open(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close(0)
	want := []token.PINState{{CountLow: true}, {CountLow: true, FinalTry: true}, {Locked: true}}
	for i, w := range want {
		err := k.Login([]byte("999999"))
		e, ok := err.(*token.Error)
		if !ok || e.Code != token.CodePINIncorrect {
			t.Fatalf("wrong PIN %d: %v, want PIN_INCORRECT", i+1, err)
		}
		// SoftHSM itself may keep COUNT_LOW up beside LOCKED: compare
		// only what the fault module decides.
		if e.PIN.Locked != w.Locked || !w.Locked && e.PIN != w {
			t.Errorf("wrong PIN %d: PIN state %+v, want %+v", i+1, e.PIN, w)
		}
	}
	if err := k.Login([]byte(testenv.PIN)); codeOf(err) != token.CodePINLocked {
		t.Fatalf("right PIN on a locked token: %v, want PIN_LOCKED", err)
	}
	if st, err := k.PINState(); err != nil || !st.Locked {
		t.Errorf("PINState after lockout: %+v, %v", st, err)
	}
	// Unlocked again, a good PIN clears SoftHSM's own wrong-PIN count so
	// later tests see a clean token.
	f.Reset()
	if err := k.Login([]byte(testenv.PIN)); err != nil {
		t.Fatalf("Login after the fault is reset: %v", err)
	}
	if st, _ := k.PINState(); st != (token.PINState{}) {
		t.Errorf("PIN state after a good PIN: %+v", st)
	}
}

func TestFaultPINFlags(t *testing.T) {
	p, f, tk := faulty(t)
	c := certByFile(t, p, tk, testenv.CertRSA)
	f.Set("pin_flags=final_try")
	k, err := p.Open(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close(0)
	if st, err := k.PINState(); err != nil || !st.FinalTry || st.Locked {
		t.Errorf("PINState with final_try: %+v, %v", st, err)
	}
	f.Set("pin_flags=locked")
	if err := k.Login([]byte(testenv.PIN)); codeOf(err) != token.CodePINLocked {
		t.Errorf("Login with the PIN locked: %v, want PIN_LOCKED", err)
	}
}

func TestFaultRemoved(t *testing.T) {
	p, f, tk := faulty(t)
	c := certByFile(t, p, tk, testenv.CertRSA)
	f.Set("removed=1")
	if _, err := p.Certificates(context.Background()); codeOf(err) != token.CodeNoToken {
		t.Errorf("Certificates with every token out: %v, want NO_TOKEN", err)
	}
	if _, err := p.Open(context.Background(), c.ID); codeOf(err) != token.CodeNoToken {
		t.Errorf("Open with every token out: %v, want NO_TOKEN", err)
	}
	f.Set("removed=" + testenv.LabelRSA)
	if _, err := p.Open(context.Background(), c.ID); codeOf(err) != token.CodeCertificateNotFound {
		t.Errorf("Open with its token out: %v, want CERTIFICATE_NOT_FOUND", err)
	}
	f.Reset() // plugged back in: seen without a new provider
	certByFile(t, p, tk, testenv.CertRSA)
}

func TestFaultRemovedMidSign(t *testing.T) {
	p, f, tk := faulty(t)
	ctx := context.Background()
	c := certByFile(t, p, tk, testenv.CertRSA)
	hash := digest(crypto.SHA256, "rút token giữa chừng")

	k, err := p.Open(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Login([]byte(testenv.PIN)); err != nil {
		t.Fatal(err)
	}
	f.Set("remove_on_sign=1")
	if _, err := k.Sign(ctx, hash, token.SHA256, ""); codeOf(err) != token.CodeTokenRemoved {
		t.Fatalf("Sign as the token is pulled out: %v, want TOKEN_REMOVED", err)
	}
	k.Close(time.Hour) // a removed token leaves nothing kept behind
	if _, err := p.Open(ctx, c.ID); err == nil {
		t.Fatal("Open succeeded while the token is out")
	}

	f.Reset() // plugged back in
	k, err = p.Open(ctx, c.ID)
	if err != nil {
		t.Fatalf("Open after re-plugging: %v", err)
	}
	defer k.Close(0)
	if k.LoggedIn() {
		t.Error("a re-plugged token is logged in")
	}
	if err := k.Login([]byte(testenv.PIN)); err != nil {
		t.Fatalf("Login after re-plugging: %v", err)
	}
	sig, err := k.Sign(ctx, hash, token.SHA256, "")
	if err != nil {
		t.Fatalf("Sign after re-plugging: %v", err)
	}
	if err := rsa.VerifyPKCS1v15(c.Cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, hash, sig); err != nil {
		t.Error(err)
	}
}

func TestFaultAlwaysAuthenticate(t *testing.T) {
	p, f, tk := faulty(t)
	ctx := context.Background()
	f.Set("always_authenticate=1")
	c := certByFile(t, p, tk, testenv.CertEC)
	k, err := p.Open(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Login([]byte(testenv.PIN)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // each signature gets its context-specific login
		hash := digest(crypto.SHA384, "xác thực lại")
		sig, err := k.Sign(ctx, hash, token.SHA384, "")
		if err != nil {
			t.Fatalf("Sign %d with CKA_ALWAYS_AUTHENTICATE: %v", i+1, err)
		}
		if !ecdsa.VerifyASN1(c.Cert.PublicKey.(*ecdsa.PublicKey), hash, sig) {
			t.Fatal("ECDSA signature does not verify")
		}
	}
	k.Close(time.Hour) // not kept: the key needs the PIN each time
	k2, err := p.Open(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer k2.Close(0)
	if k2.LoggedIn() {
		t.Error("LoggedIn() true for a key that needs the PIN for every signature")
	}
}
