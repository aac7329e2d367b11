package engine

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"kyso.vn/kyso/internal/logging"
	"kyso.vn/kyso/prompt/prompttest"
	"kyso.vn/kyso/token"
)

// The per-request cost of the engine itself, without a token: a request
// log line to a real file (as the agent's), the policy files on disk.
// `go test -run '^$' -bench . -benchmem ./engine/`

// quickProvider signs with a fixed answer so that only the engine is timed.
type quickProvider struct{ c token.Certificate }

func (p *quickProvider) Certificates(context.Context) ([]token.Certificate, error) {
	return []token.Certificate{p.c}, nil
}

func (p *quickProvider) Open(context.Context, string) (token.Key, error) { return quickKey{p.c}, nil }

type quickKey struct{ c token.Certificate }

func (k quickKey) Certificate() token.Certificate  { return k.c }
func (quickKey) PINState() (token.PINState, error) { return token.PINState{}, nil }
func (quickKey) LoggedIn() bool                    { return true }
func (quickKey) Login([]byte) error                { return nil }
func (quickKey) Close(time.Duration) error         { return nil }
func (quickKey) Sign(context.Context, []byte, token.HashFunc, token.Scheme) ([]byte, error) {
	return make([]byte, 256), nil
}

func benchEngine(b *testing.B) (*Engine, token.Certificate) {
	dir := b.TempDir()
	paths := Paths{System: filepath.Join(dir, "policy.json"), User: filepath.Join(dir, "config.json"),
		Approvals: filepath.Join(dir, "approvals.json")}
	if err := os.WriteFile(paths.User, []byte(`{"allowedOrigins": ["https://dichvucong.gov.vn"], "pinCacheSeconds": 3600}`), 0o600); err != nil {
		b.Fatal(err)
	}
	log, closer, err := logging.NewIn(filepath.Join(dir, "logs"), "bench")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { closer.Close() })
	r, _ := testKeys(b)
	c := makeCert(b, r, "NGUYỄN VĂN AN", "Kyso Test CA", time.Now().Add(time.Hour)).Certificate
	e, err := New(Options{Provider: &quickProvider{c}, Prompter: prompttest.New().Always("pin", prompttest.PIN("123456")), Paths: paths, Log: log, Lang: "en"})
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
		out := e.Handle(ctx, portal, raw)
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
		out := e.Handle(ctx, portal, raw)
		var r reply
		if json.Unmarshal(out, &r) != nil || !r.OK {
			b.Fatal(string(out))
		}
	}
}
