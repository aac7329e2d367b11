//go:build linux || darwin

package agent

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"kyso.vn/kyso/internal/frame"
	"kyso.vn/kyso/internal/wire"
)

// twoOrigins is the echo engine with a second allowed origin.
type twoOrigins struct{ *echoEngine }

const secondOrigin = "https://second.example.gov.vn"

func (e twoOrigins) MayAsk(origin string) error {
	if origin == secondOrigin {
		return nil
	}
	return e.echoEngine.MayAsk(origin)
}

// The stats question is a message of its own on the local socket (answered
// in order with the stream); on the WebSocket, "agentStats" is just an
// unknown request.
func TestAgentStats(t *testing.T) {
	r := start(t, newEcho(), Options{})
	ws := r.dial(t, goodOrigin)
	if resp := callWS(t, ws, map[string]any{"op": "agentStats"}); resp.OK || resp.Code() == "" {
		t.Fatalf("agentStats over the WebSocket: %+v", resp)
	}
	lc := r.dialLocal(t)
	if err := frame.Write(lc, wire.Append(nil, wire.Message{Kind: wire.Stats, Tag: 7})); err != nil {
		t.Fatal(err)
	}
	b, err := frame.Read(lc, wire.MaxFrame)
	if err != nil {
		t.Fatal(err)
	}
	m, err := wire.Parse(b)
	if err != nil || m.Kind != wire.Answer || m.Tag != 7 {
		t.Fatalf("stats answer %q: %v", b, err)
	}
	var s Stats
	if err := json.Unmarshal(m.Body, &s); err != nil {
		t.Fatalf("%s: %v", m.Body, err)
	}
	if s.Goroutines <= 0 || s.HeapInUse == 0 || s.RSS == 0 || s.Connections.WebSocket != 1 || s.Connections.Local != 1 {
		t.Fatalf("stats: %s", m.Body)
	}
	// As a request it is a request like any other.
	if resp := callLocal(t, lc, goodOrigin, map[string]any{"id": "x", "op": "agentStats"}); resp.Code() != "UNKNOWN_OP" {
		t.Fatalf("agentStats as a request: %+v", resp)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if s, err := queryStatsAt(ctx, r.sock); err != nil || s.Connections.Local != 2 {
		t.Fatalf("QueryStats: %+v %v", s, err)
	}
}

// One origin gets at most MaxConnsPerOrigin connections (429 beyond), and
// another origin is still served.
func TestPerOriginCap(t *testing.T) {
	r := start(t, twoOrigins{newEcho()}, Options{MaxConnsPerOrigin: 3})
	for i := 0; i < 3; i++ {
		r.dial(t, goodOrigin)
	}
	for i := 0; i < 5; i++ {
		if got := r.status(t, r.url(), goodOrigin, ""); got != http.StatusTooManyRequests {
			t.Fatalf("connection %d over the cap: HTTP %d, want 429", i, got)
		}
	}
	c := r.dial(t, secondOrigin)
	if resp := callWS(t, c, req("a", "echo", nil)); !resp.OK {
		t.Fatalf("other origin: %+v", resp)
	}
	// Refused origins take no place at all.
	if got := r.status(t, r.url(), "https://evil.example", ""); got != http.StatusForbidden {
		t.Fatalf("evil: HTTP %d", got)
	}
}

// A refusal closes the HTTP connection: a refused client holds nothing.
func TestRefusalClosesConnection(t *testing.T) {
	r := start(t, newEcho(), Options{})
	_, resp, err := r.dialRaw(r.url(), "https://evil.example", "")
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden || !resp.Close {
		t.Fatalf("refused handshake: %v %+v", err, resp)
	}
}

// An idle connection whose peer answers pings stays open; one that stops
// in the middle of a frame header, of a frame, or of a fragmented message
// (sending pongs between the fragments) is closed.
func TestKeepaliveAndHalfSentFrames(t *testing.T) {
	r := start(t, newEcho(), Options{pingPeriod: 100 * time.Millisecond, pongWait: 1500 * time.Millisecond})
	idle := r.dial(t, goodOrigin)
	pings := make(chan struct{}, 100)
	idle.SetPingHandler(func(data string) error {
		pings <- struct{}{}
		return idle.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	idleErr := make(chan error, 1)
	go func() {
		_, _, err := idle.ReadMessage() // answers pings while it waits
		idleErr <- err
	}()

	half := map[string][]byte{
		"half header":  {0x81, 0xFE}, // text, masked length 126: the extended length never comes
		"half payload": {0x81, 0x8A, 1, 2, 3, 4, 'x'},
		"fragment":     {0x01, 0x81, 1, 2, 3, 4, 'x'}, // text, FIN=0: the message never ends
	}
	done := make(chan string, len(half))
	for name, b := range half {
		c := r.dial(t, goodOrigin)
		// No automatic pongs: their bytes would complete the half frame.
		c.SetPingHandler(func(string) error { return nil })
		if _, err := c.UnderlyingConn().Write(b); err != nil {
			t.Fatal(err)
		}
		go func() {
			// Pongs between fragments must not keep the message alive.
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			closed := make(chan struct{})
			go func() {
				_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
				for {
					if _, _, err := c.NextReader(); err != nil {
						close(closed)
						return
					}
				}
			}()
			for {
				select {
				case <-tick.C:
					if name == "fragment" {
						_ = c.WriteControl(websocket.PongMessage, nil, time.Now().Add(time.Second))
					}
				case <-closed:
					done <- name
					return
				}
			}
		}()
	}
	for range half {
		select {
		case name := <-done:
			t.Logf("%s: closed by the agent", name)
		case <-time.After(60 * time.Second):
			t.Fatal("a half-sent frame held its connection")
		}
	}
	// Several pings went by and the idle connection is still open.
	if len(pings) < 3 {
		t.Fatalf("only %d pings", len(pings))
	}
	select {
	case err := <-idleErr:
		t.Fatalf("idle connection closed: %v", err)
	default:
	}
	// Still a working connection (a second client on the same origin; the
	// idle one's reader is busy).
	if resp := callWS(t, r.dial(t, goodOrigin), req("e", "echo", nil)); !resp.OK {
		t.Fatalf("echo: %+v", resp)
	}
}

func TestLogLimiter(t *testing.T) {
	l := newLogLimiter()
	if ok, _ := l.allow("a"); !ok {
		t.Fatal("first line held back")
	}
	for i := 0; i < 10; i++ {
		if ok, _ := l.allow("a"); ok {
			t.Fatal("second line within a minute let through")
		}
	}
	n := 1
	for i := 0; i < 5*logBurst; i++ {
		if ok, _ := l.allow(string(rune('b' + i))); ok {
			n++
		}
	}
	if n != logBurst {
		t.Fatalf("%d lines in a minute, want %d", n, logBurst)
	}
	// Forgetting keeps the map bounded.
	for i := 0; i < 3*logKeys; i++ {
		l.allow(string(rune(0x1000 + i)))
	}
	if len(l.keys) > logKeys {
		t.Fatalf("%d keys remembered", len(l.keys))
	}
}
