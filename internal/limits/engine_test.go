//go:build linux || darwin

package limits

// The shared limits wired into real engines, as `kyso serve` and the
// in-process `kyso host` wire them.

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/engine"
	"kyso.vn/kyso/prompt/prompttest"
	"kyso.vn/kyso/protocol"
	"kyso.vn/kyso/token"
)

// noTokens is a Provider for tests that never get past the approval dialog.
type noTokens struct{}

func (noTokens) Certificates(context.Context) ([]token.Certificate, error) {
	return nil, &token.Error{Code: protocol.NoToken}
}
func (noTokens) Open(context.Context, string) (token.Key, error) {
	return nil, &token.Error{Code: protocol.NoToken}
}

// sharedEngine is what one Kyso process of the user runs: its own engine and
// its own shared limits on the common runtime directory dir. An origin not
// approved yet makes every interactive request open the approval dialog.
func sharedEngine(t *testing.T, dir string, pr *prompttest.Prompter) *engine.Engine {
	t.Helper()
	log := zerolog.New(zerolog.NewTestWriter(t))
	lim, err := SharedAt(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	cfg := t.TempDir()
	e, err := engine.New(engine.Options{
		Provider: noTokens{}, Prompter: pr, Log: log, Lang: "en",
		Paths: engine.Paths{
			System:    filepath.Join(cfg, "policy.json"),
			User:      filepath.Join(cfg, "config.json"),
			Approvals: filepath.Join(cfg, "approvals.json"),
		},
		Gate: lim.Gate, Declines: lim.Declines,
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func errCode(t *testing.T, raw []byte) string {
	t.Helper()
	var r struct {
		OK    bool
		Error *struct{ Code string }
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	if r.Error == nil {
		return "OK"
	}
	return r.Error.Code
}

var getCert = []byte(`{"id":"1","op":"getCertificate"}`)

// A dialog open through one process makes another answer BUSY at once.
func TestSharedGateAcrossEngines(t *testing.T) {
	dir := t.TempDir()
	prA := prompttest.New().OnApprove(prompttest.Block())
	prA.Shown = make(chan prompttest.Call, 1)
	a := sharedEngine(t, dir, prA)
	prB := prompttest.New()
	b := sharedEngine(t, dir, prB)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan []byte)
	go func() { done <- a.Handle(ctx, testOrigin, getCert, nil) }()
	<-prA.Shown
	if got := errCode(t, b.Handle(context.Background(), testOrigin, getCert, nil)); got != "BUSY" {
		t.Fatalf("B while A's dialog is open: %s, want BUSY", got)
	}
	if prB.Count("approve") != 0 {
		t.Fatal("B opened a dialog while A's was open")
	}
	cancel()
	<-done
	// Free again: B's dialog opens (and is cancelled by its script).
	if got := errCode(t, b.Handle(context.Background(), testOrigin, getCert, nil)); got != "USER_CANCELLED" {
		t.Fatalf("B after A's dialog closed: %s, want USER_CANCELLED", got)
	}
}

// Three prompts declined through one process rate-limit the origin in
// another, without a dialog.
func TestSharedDeclinesAcrossEngines(t *testing.T) {
	dir := t.TempDir()
	a := sharedEngine(t, dir, prompttest.New()) // every dialog cancelled
	prB := prompttest.New()
	b := sharedEngine(t, dir, prB)
	for i := 0; i < 3; i++ {
		if got := errCode(t, a.Handle(context.Background(), testOrigin, getCert, nil)); got != "USER_CANCELLED" {
			t.Fatalf("decline %d: %s", i, got)
		}
	}
	if got := errCode(t, b.Handle(context.Background(), testOrigin, getCert, nil)); got != "RATE_LIMITED" {
		t.Fatalf("B after 3 declines in A: %s, want RATE_LIMITED", got)
	}
	if prB.Count("approve") != 0 {
		t.Fatal("B opened a dialog for a rate-limited origin")
	}
	// Another origin is not limited.
	if got := errCode(t, b.Handle(context.Background(), "https://other.example", getCert, nil)); got != "USER_CANCELLED" {
		t.Fatalf("other origin: %s", got)
	}
	st, err := os.Stat(filepath.Join(dir, declinesFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("declines file mode %o, want 600", st.Mode().Perm())
	}
}

// A real second process holding the gate makes this one BUSY; once it dies
// (killed, no cleanup), the lock is gone with it.
func TestSharedGateOtherProcess(t *testing.T) {
	dir := t.TempDir()
	kill := holdGate(t, dir)

	pr := prompttest.New()
	e := sharedEngine(t, dir, pr)
	if got := errCode(t, e.Handle(context.Background(), testOrigin, getCert, nil)); got != "BUSY" {
		t.Fatalf("while another process holds the gate: %s, want BUSY", got)
	}
	if pr.Count("approve") != 0 {
		t.Fatal("a dialog opened while another process held the gate")
	}

	kill()
	if got := errCode(t, e.Handle(context.Background(), testOrigin, getCert, nil)); got != "USER_CANCELLED" {
		t.Fatalf("after the holder died: %s, want USER_CANCELLED (gate free)", got)
	}
}
