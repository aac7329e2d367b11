package engine

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"kyso.vn/kyso/internal/logging"
	"kyso.vn/kyso/prompt/prompttest"
	"kyso.vn/kyso/token"
)

// The per-request cost of the engine itself, without a token: a request
// log line to a real file (as the agent's), the policy files on disk.
// `go test -run '^$' -bench . -benchmem ./engine/`

// quickProvider signs with answers made once (real signatures, which the
// engine verifies) so that only the engine is timed.
type quickProvider struct {
	c      token.Certificate
	signer crypto.Signer
	sigs   sync.Map // hash → signature
}

func (p *quickProvider) Certificates(context.Context) ([]token.Certificate, error) {
	return []token.Certificate{p.c}, nil
}

func (p *quickProvider) Open(context.Context, string) (token.Key, error) { return quickKey{p}, nil }

type quickKey struct{ p *quickProvider }

func (k quickKey) Certificate() token.Certificate  { return k.p.c }
func (quickKey) PINState() (token.PINState, error) { return token.PINState{}, nil }
func (quickKey) LoggedIn() bool                    { return true }
func (quickKey) ProtectedPath() bool               { return false }
func (quickKey) Login([]byte) error                { return nil }
func (quickKey) Close(time.Duration) error         { return nil }
func (k quickKey) Sign(_ context.Context, hash []byte, _ token.HashFunc, _ token.Scheme) ([]byte, error) {
	if sig, ok := k.p.sigs.Load(string(hash)); ok {
		return sig.([]byte), nil
	}
	sig, err := k.p.signer.Sign(rand.Reader, hash, crypto.SHA256)
	k.p.sigs.Store(string(hash), sig)
	return sig, err
}

func benchEngine(b *testing.B) (*Engine, token.Certificate) {
	dir := b.TempDir()
	paths := Paths{System: filepath.Join(dir, "policy.json"), User: filepath.Join(dir, "config.json"),
		Approvals: filepath.Join(dir, "approvals.json")}
	if err := os.WriteFile(paths.User, []byte(`{"allowedOrigins": ["https://dichvucong.gov.vn"]}`), 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(paths.System, []byte(`{"pinCacheSeconds": 3600}`), 0o600); err != nil {
		b.Fatal(err)
	}
	log, closer, err := logging.NewIn(filepath.Join(dir, "logs"), "bench")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { closer.Close() })
	r, _ := testKeys(b)
	c := makeCert(b, r, "NGUYỄN VĂN AN", "Kyso Test CA", time.Now().Add(time.Hour)).Certificate
	pr := prompttest.New().Always(prompttest.KindPIN, prompttest.PIN("123456")).Always(prompttest.KindConfirm, prompttest.Sign())
	e, err := New(Options{Provider: &quickProvider{c: c, signer: r}, Prompter: pr, Paths: paths, Log: log, Lang: "en"})
	if err != nil {
		b.Fatal(err)
	}
	return e, c
}

func benchHandle(b *testing.B, raw []byte) {
	e, _ := benchEngine(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		out := e.Handle(ctx, portal, raw, nil)
		var r reply
		if json.Unmarshal(out, &r) != nil || !r.OK {
			b.Fatal(string(out))
		}
	}
}

func BenchmarkHandleVersion(b *testing.B) {
	benchHandle(b, []byte(`{"id":"r1","op":"version","params":{}}`))
}

func BenchmarkHandleSign(b *testing.B) {
	e, c := benchEngine(b)
	raw, _ := json.Marshal(map[string]any{"id": "r1", "op": "sign", "params": map[string]any{
		"certificateId": c.ID, "hash": hashB64("x"), "hashFunction": "SHA-256"}})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		out := e.Handle(ctx, portal, raw, nil)
		var r reply
		if json.Unmarshal(out, &r) != nil || !r.OK {
			b.Fatal(string(out))
		}
	}
}
