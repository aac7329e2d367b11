package pkcs11

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"kyso.vn/kyso/internal/testenv"
	"kyso.vn/kyso/protocol"
	"kyso.vn/kyso/token"
)

// A module that appears while the provider runs (a driver installed) is
// found by the next lookup that fails once the rate limit allows, without a
// new provider; until then discovery is not re-run.
func TestRediscoverNewModule(t *testing.T) {
	tk := testenv.Shared(t)
	now := time.Now()
	defer func(f func() time.Time) { timeNow = f }(timeNow)
	timeNow = func() time.Time { return now }

	mod := filepath.Join(t.TempDir(), "libvendor-later.so")
	p := New(Options{Modules: []string{mod}, NoDiscovery: true})
	ctx := context.Background()
	id := token.CertID(readPEM(t, tk.CertFile(testenv.CertRSA)))
	if _, err := p.Open(ctx, id); codeOf(err) != protocol.NoToken {
		t.Fatalf("Open before the module exists: %v, want NO_TOKEN", err)
	}
	if err := os.Symlink(tk.Module, mod); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Open(ctx, id); codeOf(err) != protocol.NoToken {
		t.Fatalf("Open right after: %v, want NO_TOKEN (discovery is rate-limited)", err)
	}
	now = now.Add(rediscoverEvery)
	k, err := p.Open(ctx, id)
	if err != nil {
		t.Fatalf("Open once discovery may run again: %v", err)
	}
	k.Close(0)
	if st := p.Modules(); len(st) != 1 || !st[0].Loaded {
		t.Errorf("Modules = %+v", st)
	}
}

func readPEM(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	c, err := parsePEMCert(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
