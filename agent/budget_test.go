//go:build linux || darwin

package agent

import (
	"bytes"
	"encoding/json"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"kyso.vn/kyso/internal/frame"
	"kyso.vn/kyso/internal/wire"
	"kyso.vn/kyso/protocol"
)

// bigRequest is a request of op of about size bytes, its id first (as
// kyso.js writes it), its document held in params like signPdf's.
func bigRequest(id, op string, size int) []byte {
	return []byte(`{"id":"` + id + `","op":"` + op + `","params":{"pdf":"` + strings.Repeat("A", size) + `"}}`)
}

// heapMiB is the live heap after a collection: what the process holds.
func heapMiB() int {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int(m.HeapAlloc >> 20)
}

// Many large requests at once: the agent holds at most its budget's worth
// (the rest get BUSY with their id, read and dropped without being held),
// the budget comes back whole when they are answered, and the agent keeps
// serving, the next large request included.
func TestMemoryBudgetWS(t *testing.T) {
	before := runtime.NumGoroutine()
	eng := newEcho()
	r := start(t, eng, Options{}) // the default budget
	const n, size = 8, 60 << 20
	payload := bigRequest("ID", "block", size)
	base := heapMiB()
	conns := make([]*websocket.Conn, n)
	for i := range conns {
		conns[i] = r.dial(t, goodOrigin)
	}
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The same bytes with this connection's id ("ID" → "b0"…).
			msg := bytes.Replace(payload[:16], []byte(`"ID"`), []byte(`"b`+strconv.Itoa(i)+`"`), 1)
			w, err := c.NextWriter(websocket.TextMessage)
			if err == nil {
				w.Write(msg)
				w.Write(payload[16:])
				err = w.Close()
			}
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// Each connection either gets BUSY (budget) or its request is held by
	// the engine ("block" waits for the connection to close).
	answers := make(chan response, n)
	for _, c := range conns {
		go func() {
			c.SetReadDeadline(time.Now().Add(2 * time.Minute))
			if _, b, err := c.ReadMessage(); err == nil {
				answers <- parseResp(t, b)
			}
		}()
	}
	held, busy := 0, map[string]bool{}
	for held+len(busy) < n {
		select {
		case <-eng.started:
			held++
		case resp := <-answers:
			if resp.Code() != protocol.Busy || !strings.HasPrefix(resp.ID, "b") || busy[resp.ID] {
				t.Fatalf("a large request: %+v", resp)
			}
			busy[resp.ID] = true
		case <-time.After(2 * time.Minute):
			t.Fatalf("%d held, %d BUSY of %d", held, len(busy), n)
		}
	}
	charge := int64(size) * chargeFactor
	if held == n || int64(held)*charge > DefaultMemoryBudget {
		t.Fatalf("%d of %d large requests held under a budget of %d MiB", held, n, DefaultMemoryBudget>>20)
	}
	t.Logf("%d of %d 60 MiB requests held, %d BUSY", held, n, len(busy))
	// What the process holds: the test's own payload and what the
	// agent holds, within the budget (each charged chargeFactor per byte).
	if got, limit := heapMiB()-base, DefaultMemoryBudget>>20/chargeFactor+16; got > limit {
		t.Fatalf("agent holds %d MiB with %d large requests pending; want ≤ %d", got, held, limit)
	}
	if used := r.a.budget.used.Load(); used < int64(held)*charge || used > DefaultMemoryBudget {
		t.Fatalf("budget in use %d MiB for %d held requests", used>>20, held)
	}
	// Answered (cancelled by closing), the budget comes back whole.
	for _, c := range conns {
		c.Close()
	}
	for range held {
		<-eng.ended
	}
	waitFor(t, func() bool { return r.a.budget.used.Load() == 0 })
	// And the agent serves on: a large request is taken again.
	c := r.dial(t, goodOrigin)
	if err := c.WriteMessage(websocket.TextMessage, bigRequest("again", "echo", size)); err != nil {
		t.Fatal(err)
	}
	if resp := readWS(t, c); !resp.OK || resp.ID != "again" {
		t.Fatalf("after: %+v", resp)
	}
	c.Close()
	r.stop()
	waitGoroutines(t, before)
}

// On the local socket the charge is taken from the frame's length before
// anything is allocated; a frame over the budget is skipped unread (its
// tag answered BUSY) and the stream stays in step.
func TestMemoryBudgetLocal(t *testing.T) {
	eng := newEcho()
	r := start(t, eng, Options{MemoryBudget: 100 << 20})
	c := r.dialLocal(t)
	send := func(tag uint64, body []byte) {
		t.Helper()
		err := frame.WriteMax(c, wire.Append(nil, wire.Message{Kind: wire.Request, Tag: tag, Origin: goodOrigin, Body: body}), wire.MaxRequestFrame)
		if err != nil {
			t.Fatal(err)
		}
	}
	// 10 MiB (40 MiB charged) is held; 30 MiB more (120) is not.
	send(1, bigRequest("held", "block", 10<<20))
	<-eng.started
	send(2, bigRequest("big", "echo", 30<<20))
	if resp := readLocal(t, c); resp.Code() != protocol.Busy || resp.ID != "big" {
		t.Fatalf("over the budget: %+v", resp)
	}
	// The page's id is not first: the agent answers without it (the relay
	// puts it back from its tag: host.TestRelayPutsID).
	send(3, []byte(`{"op":"echo","id":"late","params":{"pdf":"`+strings.Repeat("A", 30<<20)+`"}}`))
	if resp := readLocal(t, c); resp.Code() != protocol.Busy || resp.ID != "" {
		t.Fatalf("over the budget, id last: %+v", resp)
	}
	// In step: a small request, then a large one that fits, answered.
	if resp := callLocal(t, c, goodOrigin, req("small", "echo", nil)); !resp.OK {
		t.Fatalf("small after: %+v", resp)
	}
	send(4, bigRequest("fits", "echo", 10<<20))
	if resp := readLocal(t, c); !resp.OK || resp.ID != "fits" {
		t.Fatalf("a large one that fits: %+v", resp)
	}
	// Over the request limit of the local socket: the connection ends
	// (the host never sends one: it refuses them itself).
	var hdr [4]byte
	hdr[0], hdr[1], hdr[2], hdr[3] = 0xff, 0xff, 0xff, 0x0f
	c.Write(hdr[:])
	if _, err := frame.Read(c, wire.MaxFrame); err == nil {
		t.Fatal("the connection went on after a frame over the limit")
	}
	waitFor(t, func() bool { return r.a.budget.used.Load() == 0 })
}

// Over the document limit a WebSocket message ends its connection (1009:
// gorilla's read limit); at the limit it is still read.
func TestWSDocumentLimit(t *testing.T) {
	r := start(t, newEcho(), Options{})
	c := r.dial(t, goodOrigin)
	at := bigRequest("at", "echo", protocol.MaxDocumentMessage)
	at = at[:protocol.MaxDocumentMessage-3]
	at = append(at, `"}}`...)
	if err := c.WriteMessage(websocket.TextMessage, at); err != nil {
		t.Fatal(err)
	}
	if resp := readWS(t, c); !resp.OK || resp.ID != "at" {
		t.Fatalf("a message of exactly 64 MiB: %+v", resp)
	}
	_ = c.WriteMessage(websocket.TextMessage, append(at, ' '))
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, _, err := c.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
		t.Fatalf("over 64 MiB: %v, want close 1009", err)
	}
	waitFor(t, func() bool { return r.a.budget.used.Load() == 0 })
}

func TestPrefixID(t *testing.T) {
	for head, want := range map[string]string{
		`{"id":"r1","op":"signPdf","params":{"pdf":"JVBER`: "r1",
		` { "id" : "Tờ khai 1" , "op"`:                     "Tờ khai 1",
		`{"op":"signPdf","id":"r1"`:                        "",
		`{"id":7,`:                                         "",
		`{"id":"",`:                                        "",
		`{"ID":"r1",`:                                      "",
		`{"id":"` + strings.Repeat("x", 65) + `",`:         "",
		`{"id":"r`:                                         "",
		`[`:                                                "",
	} {
		if got := prefixID([]byte(head)); got != want {
			t.Errorf("prefixID(%q) = %q, want %q", head, got, want)
		}
	}
}

func parseResp(t *testing.T, b []byte) response {
	t.Helper()
	var r response
	if err := json.Unmarshal(b, &r); err != nil {
		t.Errorf("response %.200s: %v", b, err)
	}
	return r
}

// waitFor waits until cond holds; the deadline only bounds a hang.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 30 s")
		}
	}
}
