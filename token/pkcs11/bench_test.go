package pkcs11_test

import (
	"bytes"
	"context"
	"crypto"
	"testing"
	"time"

	p11 "github.com/miekg/pkcs11"
	"github.com/rs/zerolog"

	"kyso.vn/kyso/internal/testenv"
	"kyso.vn/kyso/token"
	"kyso.vn/kyso/token/pkcs11"
)

// The per-request cost of the token layer against the raw PKCS#11 floor,
// for one RSA-2048 PKCS#1 v1.5 signature with the PIN cached:
//
//	go test -run '^$' -bench OpenSign -benchtime 2000x ./token/pkcs11/
//
// BenchmarkOpenSign does what the engine's sign does per request (Open,
// LoggedIn, Sign, Close keeping the login; "journaled" with the crash
// journal marking each call into the module, as the agent runs it); BenchmarkRawSign is the bench's
// floor: C_OpenSession, C_SignInit, C_Sign, C_CloseSession, logged in by a
// session held for the whole run.

func BenchmarkOpenSign(b *testing.B) {
	for _, disc := range []struct {
		name    string
		auto    bool
		journal bool
	}{{"configured", false, false}, {"discovery", true, false}, {"journaled", false, true}} {
		b.Run(disc.name, func(b *testing.B) {
			tk := testenv.Shared(b)
			var j *pkcs11.Journal
			if disc.journal {
				// The crash journal as the agent runs it (docs/tokens.md).
				var err error
				if j, err = pkcs11.OpenJournal(b.TempDir(), zerolog.Nop()); err != nil {
					b.Fatal(err)
				}
				defer j.Close()
			}
			p := pkcs11.New(pkcs11.Options{Modules: []string{tk.Module}, NoDiscovery: !disc.auto, Log: zerolog.Nop(), Journal: j})
			id := token.CertID(readCert(b, tk.CertFile(testenv.CertRSA)).Raw)
			ctx := context.Background()
			hash := digest(crypto.SHA256, "đo hiệu năng")
			sign := func() {
				k, err := p.Open(ctx, id)
				if err != nil {
					b.Fatal(err)
				}
				if !k.LoggedIn() {
					if err := k.Login([]byte(testenv.PIN)); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := k.Sign(ctx, hash, token.SHA256, ""); err != nil {
					b.Fatal(err)
				}
				k.Close(time.Hour)
			}
			sign() // loads the modules and logs in
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				sign()
			}
			b.StopTimer()
			if k, err := p.Open(ctx, id); err == nil {
				k.LoggedIn()
				k.Close(0) // log out: later tests expect a logged-out token
			}
		})
	}
}

func BenchmarkRawSign(b *testing.B) {
	tk := testenv.Shared(b)
	cert := readCert(b, tk.CertFile(testenv.CertRSA))
	c := p11.New(tk.Module)
	if c == nil {
		b.Fatal("cannot load", tk.Module)
	}
	if err := c.Initialize(); err != nil && err != p11.Error(p11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		b.Fatal(err)
	}
	slot := rawSlot(b, c, testenv.LabelRSA)
	held, err := c.OpenSession(slot, p11.CKF_SERIAL_SESSION)
	if err != nil {
		b.Fatal(err)
	}
	defer c.CloseSession(held)
	if err := c.Login(held, p11.CKU_USER, testenv.PIN); err != nil && err != p11.Error(p11.CKR_USER_ALREADY_LOGGED_IN) {
		b.Fatal(err)
	}
	defer c.Logout(held)
	priv := rawKey(b, c, held, cert.Raw)
	// DigestInfo(SHA-256) || hash, what the token layer passes to CKM_RSA_PKCS.
	data := append([]byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
		digest(crypto.SHA256, "đo hiệu năng")...)
	mech := []*p11.Mechanism{p11.NewMechanism(p11.CKM_RSA_PKCS, nil)}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := c.OpenSession(slot, p11.CKF_SERIAL_SESSION)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.SignInit(s, mech, priv); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Sign(s, data); err != nil {
			b.Fatal(err)
		}
		c.CloseSession(s)
	}
}

func rawSlot(b *testing.B, c *p11.Ctx, label string) uint {
	slots, err := c.GetSlotList(true)
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range slots {
		if ti, err := c.GetTokenInfo(s); err == nil && ti.Label == label {
			return s
		}
	}
	b.Fatalf("no token %s", label)
	return 0
}

// rawKey finds the private key whose CKA_ID is that of the certificate der.
func rawKey(b *testing.B, c *p11.Ctx, s p11.SessionHandle, der []byte) p11.ObjectHandle {
	find := func(tmpl []*p11.Attribute) []p11.ObjectHandle {
		if err := c.FindObjectsInit(s, tmpl); err != nil {
			b.Fatal(err)
		}
		defer c.FindObjectsFinal(s)
		objs, _, err := c.FindObjects(s, 100)
		if err != nil {
			b.Fatal(err)
		}
		return objs
	}
	for _, o := range find([]*p11.Attribute{p11.NewAttribute(p11.CKA_CLASS, p11.CKO_CERTIFICATE)}) {
		a, err := c.GetAttributeValue(s, o, []*p11.Attribute{p11.NewAttribute(p11.CKA_VALUE, nil), p11.NewAttribute(p11.CKA_ID, nil)})
		if err != nil || !bytes.Equal(a[0].Value, der) {
			continue
		}
		keys := find([]*p11.Attribute{p11.NewAttribute(p11.CKA_CLASS, p11.CKO_PRIVATE_KEY), p11.NewAttribute(p11.CKA_ID, a[1].Value)})
		if len(keys) > 0 {
			return keys[0]
		}
	}
	b.Fatal("no private key for the certificate")
	return 0
}
