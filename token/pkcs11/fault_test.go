package pkcs11_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/internal/testenv"
	"kyso.vn/kyso/protocol"
	"kyso.vn/kyso/token"
	"kyso.vn/kyso/token/pkcs11"
)

// faulty returns a provider over the fault module (forwarding to the shared
// SoftHSM tokens) and its control.
func faulty(t *testing.T) (*pkcs11.Provider, *testenv.Fault, *testenv.Tokens) {
	t.Helper()
	tk := testenv.Shared(t)
	f := testenv.NewFault(t)
	t.Cleanup(f.Reset)
	p := pkcs11.New(pkcs11.Options{Modules: []string{testenv.FaultModule(t)}, NoDiscovery: true, Log: zerolog.Nop()})
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
		if !ok || e.Code != token.PINIncorrect {
			t.Fatalf("wrong PIN %d: %v, want PIN_INCORRECT", i+1, err)
		}
		// SoftHSM itself may keep COUNT_LOW up beside LOCKED: compare
		// only what the fault module decides.
		if e.PIN.Locked != w.Locked || !w.Locked && e.PIN != w {
			t.Errorf("wrong PIN %d: PIN state %+v, want %+v", i+1, e.PIN, w)
		}
	}
	if err := k.Login([]byte(testenv.PIN)); codeOf(err) != protocol.PINLocked {
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
	if err := k.Login([]byte(testenv.PIN)); codeOf(err) != protocol.PINLocked {
		t.Errorf("Login with the PIN locked: %v, want PIN_LOCKED", err)
	}
}

func TestFaultRemoved(t *testing.T) {
	p, f, tk := faulty(t)
	c := certByFile(t, p, tk, testenv.CertRSA)
	f.Set("removed=1")
	if _, err := p.Certificates(context.Background()); codeOf(err) != protocol.NoToken {
		t.Errorf("Certificates with every token out: %v, want NO_TOKEN", err)
	}
	if _, err := p.Open(context.Background(), c.ID); codeOf(err) != protocol.NoToken {
		t.Errorf("Open with every token out: %v, want NO_TOKEN", err)
	}
	f.Set("removed=" + testenv.LabelRSA)
	if _, err := p.Open(context.Background(), c.ID); codeOf(err) != protocol.CertificateNotFound {
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
	if _, err := k.Sign(ctx, hash, token.SHA256, ""); codeOf(err) != protocol.TokenRemoved {
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

// Open goes straight to where it last saw a certificate; once its token is
// pulled out that place must not answer, and once it is back Open finds it
// again, without a new provider.
func TestFaultRememberedLocation(t *testing.T) {
	p, f, tk := faulty(t)
	ctx := context.Background()
	c := certByFile(t, p, tk, testenv.CertRSA) // the listing remembers where it is
	if !pkcs11.Remembered(p, c.ID) {
		t.Fatal("the listing did not remember where the certificate is")
	}
	hash := digest(crypto.SHA256, "nhớ chỗ để chứng thư")
	sign := func(what string, keep time.Duration) {
		t.Helper()
		k, err := p.Open(ctx, c.ID)
		if err != nil {
			t.Fatalf("Open %s: %v", what, err)
		}
		defer k.Close(keep)
		if !k.LoggedIn() {
			if err := k.Login([]byte(testenv.PIN)); err != nil {
				t.Fatalf("Login %s: %v", what, err)
			}
		}
		sig, err := k.Sign(ctx, hash, token.SHA256, "")
		if err != nil {
			t.Fatalf("Sign %s: %v", what, err)
		}
		if err := rsa.VerifyPKCS1v15(c.Cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, hash, sig); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	sign("first", time.Hour)
	sign("with the kept login and key handle", time.Hour)

	f.Set("removed=" + testenv.LabelRSA)
	if _, err := p.Open(ctx, c.ID); codeOf(err) != protocol.CertificateNotFound && codeOf(err) != protocol.TokenRemoved {
		t.Fatalf("Open with its token out: %v, want CERTIFICATE_NOT_FOUND or TOKEN_REMOVED", err)
	}
	if pkcs11.Remembered(p, c.ID) {
		t.Error("the location of a pulled-out token is still remembered")
	}
	// Another token of the same module still opens meanwhile.
	ec := certByFile(t, p, tk, testenv.CertEC)
	if k, err := p.Open(ctx, ec.ID); err != nil {
		t.Errorf("Open on another token while one is out: %v", err)
	} else {
		k.Close(0)
	}

	f.Reset() // plugged back in
	k, err := p.Open(ctx, c.ID)
	if err != nil {
		t.Fatalf("Open after re-plugging: %v", err)
	}
	if k.LoggedIn() {
		t.Error("a re-plugged token is still logged in")
	}
	k.Close(0)
	sign("after re-plugging", 0)
	if !pkcs11.Remembered(p, c.ID) {
		t.Error("Open after re-plugging did not remember the location again")
	}
}

// Many goroutines signing on two tokens through remembered locations and
// kept logins, while the listing runs beside them (go test -race).
func TestConcurrentRemembered(t *testing.T) {
	p, tk := softhsm(t)
	ctx := context.Background()
	certs := []token.Certificate{certByFile(t, p, tk, testenv.CertRSA), certByFile(t, p, tk, testenv.CertEC)}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			c := certs[g%2]
			for i := 0; i < 10; i++ {
				if g == 5 {
					if _, err := p.Certificates(ctx); err != nil {
						errs <- err
					}
					continue
				}
				k, err := p.Open(ctx, c.ID)
				if err != nil {
					errs <- err
					return
				}
				if !k.LoggedIn() {
					if err := k.Login([]byte(testenv.PIN)); err != nil {
						k.Close(0)
						errs <- err
						return
					}
				}
				_, err = k.Sign(ctx, digest(crypto.SHA256, "song song"), token.SHA256, "")
				k.Close(time.Minute)
				if err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, c := range certs { // log out: later tests expect logged-out tokens
		if k, err := p.Open(ctx, c.ID); err == nil {
			k.LoggedIn()
			k.Close(0)
		}
	}
}
