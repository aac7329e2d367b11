package host

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/agent"
	"kyso.vn/kyso/engine"
	"kyso.vn/kyso/internal/frame"
)

// agentEcho is the echo backend as the agent's engine.
type agentEcho struct {
	echo
	cancelled chan string
}

func (e *agentEcho) MayAsk(string) error { return nil }
func (e *agentEcho) Allowed(string) bool { return true }

func (e *agentEcho) Handle(ctx context.Context, origin string, req []byte, progress func([]byte)) []byte {
	resp := e.echo.Answer(ctx, origin, engine.ParseRequest(req), progress)
	if ctx.Err() != nil {
		e.cancelled <- string(req)
	}
	return resp
}

// startAgent runs the real agent's local socket over the given engine and
// returns a Relay connected to it.
func startAgent(t *testing.T, eng agent.Engine) *Relay {
	t.Helper()
	return startAgentWith(t, agent.Options{Engine: eng})
}

func startAgentWith(t *testing.T, o agent.Options) *Relay {
	t.Helper()
	path := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := agent.ListenLocalAt(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	o.Log = zerolog.New(io.Discard)
	a := agent.New(o)
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, agent.Listeners{Local: ln}) }()
	t.Cleanup(func() { cancel(); <-done })
	conn, err := agent.DialLocalAt(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRelay(ctx, conn, zerolog.New(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRelay(t *testing.T) {
	e := &agentEcho{echo: echo{started: make(chan string, 2)}, cancelled: make(chan string, 2)}
	r := startAgent(t, e)
	h := start(t, r)

	// Two pending requests with the same page id, then more: each answer
	// goes back with the page's id, the origin travels in the frame.
	h.send(`{"origin":"https://a.vn","request":{"id":"same","op":"block"}}`)
	h.send(`{"origin":"https://a.vn","request":{"id":"same","op":"block"}}`)
	<-e.started
	<-e.started
	h.send(`{"origin":"https://b.gov.vn","request":{"id":"same","op":"version"}}`)
	h.wantOrigin("same", "https://b.gov.vn")
	h.send(`{"origin":"https://c.vn","request":{"id":"v","op":"version"}}`)
	h.wantOrigin("v", "https://c.vn")

	// The browser goes away: the host closes its connection, which makes
	// the agent cancel the two pending operations.
	if err := h.end(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	// The agent saw each request as the page wrote it.
	for _, g := range []string{<-e.cancelled, <-e.cancelled} {
		if g != `{"id":"same","op":"block"}` {
			t.Fatalf("agent saw %q", g)
		}
	}
}

func TestRelayAgentGone(t *testing.T) {
	e := &agentEcho{echo: echo{started: make(chan string, 1)}, cancelled: make(chan string, 1)}
	path := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := agent.ListenLocalAt(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	a := agent.New(agent.Options{Engine: e, Log: zerolog.New(io.Discard)})
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, agent.Listeners{Local: ln}) }()
	conn, err := agent.DialLocalAt(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRelay(ctx, conn, zerolog.New(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	h := start(t, r)
	h.send(`{"origin":"https://a.vn","request":{"id":"p","op":"block"}}`)
	<-e.started
	stop() // the agent shuts down mid-operation
	<-done
	// Either the agent's own cancellation answer arrives before it closes
	// the connection, or the relay reports the lost connection.
	if r := h.recv(); r.OK || r.ID != "p" || (r.Error.Code != "USER_CANCELLED" && r.Error.Code != "INTERNAL") {
		t.Fatalf("got %+v", r)
	}
	h.send(`{"origin":"https://a.vn","request":{"id":"q","op":"version"}}`)
	h.wantError("q", "INTERNAL")
	h.end()
}

// An agent of an earlier Kyso (JSON frames) answers the hello with a JSON
// refusal: NewRelay says so, and the host runs the engine itself.
func TestRelayAgentOfAnotherVersion(t *testing.T) {
	host, old := net.Pipe()
	defer host.Close()
	go func() {
		defer old.Close()
		if _, err := frame.Read(old, frame.Max); err != nil {
			return
		}
		frame.Write(old, []byte(`{"id":"","ok":false,"error":{"code":"BAD_REQUEST","message":"expected {\"origin\", \"request\"}"}}`))
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := NewRelay(ctx, host, zerolog.New(io.Discard)); !errors.Is(err, ErrOtherVersion) {
		t.Fatalf("NewRelay: %v, want ErrOtherVersion", err)
	}
}

// Large requests through the relay: one the agent's memory budget holds is
// answered; one it cannot hold is BUSY, with the page's id even when the
// request does not begin with it (the agent skipped it unread; the relay
// puts the id back from its tag); a 20 MiB answer from the agent reaches
// the browser as parts that join into it.
func TestRelayLargeRequests(t *testing.T) {
	e := &agentEcho{cancelled: make(chan string, 1)}
	r := startAgentWith(t, agent.Options{Engine: e, MemoryBudget: 8 << 20})
	h := start(t, r)
	doc := strings.Repeat("A", 3<<19) // 1.5 MiB: 6 MiB charged
	h.send(`{"origin":"https://a.vn","request":{"op":"signPdf","id":"fits","params":{"pdf":"` + doc + `"}}}`)
	h.wantOrigin("fits", "https://a.vn")
	doc = strings.Repeat("A", 3<<20) // 12 MiB charged
	h.send(`{"origin":"https://a.vn","request":{"op":"signPdf","id":"late","params":{"pdf":"` + doc + `"}}}`)
	h.wantError("late", "BUSY")
	h.send(`{"origin":"https://a.vn","request":{"id":"v","op":"version"}}`)
	h.wantOrigin("v", "https://a.vn")
	if err := h.end(); err != nil {
		t.Fatal(err)
	}

	resp := bigAnswer("big", 20<<20)
	r = startAgentWith(t, agent.Options{Engine: agentAnswer(resp)})
	h = start(t, r)
	h.send(`{"origin":"https://a.vn","request":{"id":"big","op":"signPdf"}}`)
	if got, _ := joinParts(t, h.out, "big"); got != string(resp) {
		t.Fatal("the relayed 20 MiB answer differs")
	}
	h.end()
}

// agentAnswer answers every request with the same response, as the agent's
// engine.
type agentAnswer []byte

func (a agentAnswer) MayAsk(string) error { return nil }
func (a agentAnswer) Allowed(string) bool { return true }
func (a agentAnswer) Handle(context.Context, string, []byte, func([]byte)) []byte {
	return a
}
