//go:build linux && cgo

package security

// Pages that try to wear the person down with dialogs, against the shipped
// binary and its real zenity dialogs: a flood of signing requests from one
// origin, and two pages signing at the same moment. (e2e/ does the same
// from real Chromium tabs; here the agent's goroutines and memory are also
// checked against their baseline afterwards.)

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/gorilla/websocket"

	"kyso.vn/kyso/internal/testenv"
)

// burst sends n sign requests on each of conns at once and collects every
// answer's code ("" for ok), by request id.
func burst(t *testing.T, conns []*websocket.Conn, n int, round int) map[string]string {
	t.Helper()
	id := certID(t, testenv.CertRSA)
	var mu sync.Mutex
	codes := map[string]string{}
	var wg sync.WaitGroup
	for ci, c := range conns {
		for i := 0; i < n; i++ {
			rid := fmt.Sprintf("r%d-c%d-%d", round, ci, i)
			b, _ := json.Marshal(req(rid, "sign", signParams(id, hashOf(rid))))
			if err := c.WriteMessage(websocket.TextMessage, b); err != nil {
				t.Fatal(err)
			}
		}
		wg.Add(1)
		go func(c *websocket.Conn) {
			defer wg.Done()
			for i := 0; i < n; i++ {
				r := read(t, c)
				mu.Lock()
				codes[r.ID] = string(r.Code())
				mu.Unlock()
			}
		}(c)
	}
	return waitCodes(&wg, &mu, codes)
}

func waitCodes(wg *sync.WaitGroup, mu *sync.Mutex, codes map[string]string) map[string]string {
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	return codes
}

func count(codes map[string]string) map[string]int {
	n := map[string]int{}
	for _, c := range codes {
		n[c]++
	}
	return n
}

// A page floods signing requests over 4 connections of one origin: the
// person sees one PIN dialog at a time, every other request is answered
// BUSY at once; after 3 cancelled dialogs the origin is RATE_LIMITED with
// no dialog at all; every request is answered; another allowed origin still
// signs; the agent returns to its baseline.
func TestDialogFlood(t *testing.T) {
	a, display, base := attack(t, nil)
	var conns []*websocket.Conn
	for i := 0; i < 4; i++ {
		c, _, err := a.Dial(portal)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	const perConn = 16 // the agent's in-flight cap per connection
	watch := testenv.WatchWindows(display, "^Kyso")
	for round := 0; round < 4; round++ {
		done := make(chan map[string]string)
		go func() { done <- burst(t, conns, perConn, round) }()
		if round < 3 {
			testenv.Cancel(t, display, pinTitle)
		}
		codes := <-done
		n := count(codes)
		if len(codes) != len(conns)*perConn {
			t.Fatalf("round %d: %d answers for %d requests", round, len(codes), len(conns)*perConn)
		}
		want := map[string]int{"USER_CANCELLED": 1, "BUSY": len(codes) - 1}
		if round == 3 {
			want = map[string]int{"RATE_LIMITED": len(codes)}
		}
		for code, w := range want {
			if n[code] != w {
				t.Fatalf("round %d: %v, want %v", round, n, want)
			}
		}
		testenv.WaitNoWindow(t, display, "^Kyso")
	}
	most, seen := watch.End()
	if most > 1 || len(seen) > 3 {
		t.Fatalf("dialogs: at most %d at once, %d in all (%v); want 1 at once, 3 in all", most, len(seen), seen)
	}
	for _, c := range conns {
		c.Close()
	}
	recovered(t, a, display, base, other)
}

// Two pages (two origins, two connections) sign at the same moment: one
// gets the PIN dialog, the other BUSY at once; the first signs.
func TestDialogTwoPagesAtOnce(t *testing.T) {
	a, display, base := attack(t, nil)
	c1, _, err := a.Dial(portal)
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	c2, _, err := a.Dial(other)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	done := make(chan map[string]string)
	go func() { done <- burst(t, []*websocket.Conn{c1, c2}, 1, 0) }()
	testenv.AnswerPIN(t, display, pinTitle, suitePIN)
	n := count(<-done)
	if n[""] != 1 || n["BUSY"] != 1 {
		t.Fatalf("two pages at once: %v, want one signed and one BUSY", n)
	}
	c1.Close()
	c2.Close()
	settled(t, a, base)
}
