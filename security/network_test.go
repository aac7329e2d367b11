//go:build linux && cgo

package security

// The network face of the agent (SECURITY.md: "another web site", "a
// rebound DNS name", "a lookalike of an allowed origin", "resource abuse"):
// handshakes with hostile Host and Origin headers, connection floods,
// slowloris clients and malformed messages, against the shipped binary.
// Each test ends with a real signature and the agent back at its baseline.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"kyso.vn/kyso/agent"
	"kyso.vn/kyso/internal/frame"
	"kyso.vn/kyso/internal/testenv"
	"kyso.vn/kyso/internal/wire"
	"kyso.vn/kyso/protocol"
)

// DNS rebinding: any Host header but the three loopback spellings with the
// agent's port is refused with 421 before the upgrade, and no dialog opens.
func TestNetDNSRebinding(t *testing.T) {
	a, display, base := attack(t, nil)
	p := strconv.Itoa(a.Port)
	for _, host := range []string{"127.0.0.1:" + p, "localhost:" + p, "[::1]:" + p} {
		if got := netHandshake(t, a, host, portal); got != http.StatusSwitchingProtocols {
			t.Fatalf("Host %q: HTTP %d, want 101", host, got)
		}
	}
	for _, host := range []string{
		"evil.example:" + p,
		"127.0.0.1.nip.io:" + p, // a public name that resolves to 127.0.0.1
		"localhost.:" + p,       // trailing dot: another name to the browser
		"localhost.evil.example:" + p,
		"127.0.0.2:" + p,
		"0x7f.0.0.1:" + p,
		"2130706433:" + p, // 127.0.0.1 as one number
		"0177.0.0.1:" + p, // octal
		"[::ffff:127.0.0.1]:" + p,
		"[0:0:0:0:0:0:0:1]:" + p,
		"0.0.0.0:" + p,
		"127.0.0.1:" + strconv.Itoa(a.Port+1), // wrong port
		"127.0.0.1:0" + p,
		"127.0.0.1", // no port
		"localhost", // no port
		"evil.example",
		"127.0.0.1:" + p + ".evil.example",
	} {
		if got := netHandshake(t, a, host, portal); got != http.StatusMisdirectedRequest {
			t.Errorf("Host %q: HTTP %d, want 421", host, got)
		}
	}
	netNoDialog(t, display)
	recovered(t, a, display, base, portal)
}

// Origins a browser page cannot be trusted with, or that a browser never
// sends, are refused with 403 before the upgrade, and no dialog opens.
// With userApproval off, a not-listed origin is refused too (DESIGN).
func TestNetOrigins(t *testing.T) {
	a, display, base := attack(t, map[string]any{"userApproval": false})
	host := netHost(a)
	if got := netHandshake(t, a, host, portal); got != http.StatusSwitchingProtocols {
		t.Fatalf("%s: HTTP %d, want 101", portal, got)
	}
	for _, origin := range []string{
		"", // missing
		"null",
		"http://dichvucong.gov.vn",
		"https://user@dichvucong.gov.vn",
		"https://user:pass@dichvucong.gov.vn",
		"https://dichvucong.gov.vn:8443",
		"https://dichvucong.gov.vn:443", // browsers never write the default port
		"HTTPS://DICHVUCONG.GOV.VN",     // browsers always send lowercase ASCII
		"https://DichVuCong.gov.vn",
		"https://dichvucong.gov.vn.",
		"https://dichvucong.gov.vn/",
		"https://dichvucong.gov.vn/path",
		"https://xn--dchvucng-o1a3h.gov.vn", // punycode of a look-alike (dịchvucông)
		"https://dịchvụcông.gov.vn",         // raw Unicode
		"https://dichvucong.gov.vn.evil.com",
		"https://evil-dichvucong.gov.vn",
		"https://evil.example",
		"file://",
		"file:///home/user/sign.html",
		"chrome-extension://abcdefghijklmnopabcdefghijklmnop",
		"moz-extension://0d5c7f4e-8d36-4c5b-9f1e-2a5b6c7d8e9f",
		"ws://dichvucong.gov.vn",
		"javascript:alert(1)",
		"https://dichvucong.gov.vn, https://evil.example",
	} {
		if got := netHandshake(t, a, host, origin); got != http.StatusForbidden {
			t.Errorf("Origin %q: HTTP %d, want 403", origin, got)
		}
	}
	// Two Origin headers: which one would be the page's?
	c, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	c.Write([]byte("GET /v1 HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"Origin: https://evil.example\r\nOrigin: " + portal + "\r\n\r\n"))
	line, _ := bufioLine(c)
	c.Close()
	if !strings.Contains(line, " 403 ") {
		t.Errorf("two Origin headers: %q, want 403", line)
	}
	netNoDialog(t, display)
	recovered(t, a, display, base, portal)
}

// With userApproval on, a not-listed https origin may connect (the person
// may still approve it), but a look-alike of a listed origin is its own
// origin: it gets the consent dialog that names it, never the listed
// origin's PIN dialog.
func TestNetLookalikeNeedsItsOwnApproval(t *testing.T) {
	display := testenv.Display(t)
	a := startAgent(t, display, nil) // userApproval defaults to true
	base := stats(t, a)
	for _, origin := range []string{"https://evil.example", "https://dichvucong.gov.vn.evil.com", "https://xn--dchvucng-o1a3h.gov.vn"} {
		if got := netHandshake(t, a, netHost(a), origin); got != http.StatusSwitchingProtocols {
			t.Fatalf("%s: HTTP %d, want 101 (approvable)", origin, got)
		}
	}
	// Still refused even though approvable: not how browsers spell it.
	for _, origin := range []string{"HTTPS://DICHVUCONG.GOV.VN", "https://dịchvụcông.gov.vn", "https://dichvucong.gov.vn."} {
		if got := netHandshake(t, a, netHost(a), origin); got != http.StatusForbidden {
			t.Errorf("%s: HTTP %d, want 403", origin, got)
		}
	}
	lookalike := "https://dichvucong.gov.vn.evil.com"
	c, _, err := a.Dial(lookalike)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b, _ := json.Marshal(req("l", "sign", signParams(certID(t, testenv.CertRSA), hashOf("lookalike"))))
	if err := c.WriteMessage(websocket.TextMessage, b); err != nil {
		t.Fatal(err)
	}
	testenv.WaitWindow(t, display, "^Kyso")
	if testenv.HasWindow(t, display, pinTitle) {
		t.Fatal("the look-alike got a PIN dialog: it was taken for the listed origin")
	}
	testenv.Cancel(t, display, "^Kyso")
	if r := read(t, c); r.Code() != "USER_CANCELLED" {
		t.Fatalf("look-alike after the consent dialog was closed: %+v", r)
	}
	testenv.WaitNoWindow(t, display, "^Kyso")
	c.Close()
	recovered(t, a, display, base, portal)
}

// 1,000 connections at once from one origin: the per-origin cap takes
// DefaultMaxConnsPerOrigin of them and refuses the rest before the upgrade
// (429), the total stays under the overall cap, and a page of another
// allowed origin is still served meanwhile.
func TestNetThousandConnectionsOneOrigin(t *testing.T) {
	a, display, base := attack(t, nil)
	conns, statuses := netFlood(t, a, 1000, func(int) string { return portal })
	defer closeAll(conns)
	if len(conns) == 0 || len(conns) > agent.DefaultMaxConnsPerOrigin {
		t.Fatalf("%d connections of one origin open, want 1..%d", len(conns), agent.DefaultMaxConnsPerOrigin)
	}
	for st, n := range statuses {
		if st != http.StatusTooManyRequests && st != http.StatusServiceUnavailable {
			t.Fatalf("%d refusals with HTTP %d", n, st)
		}
	}
	if s := stats(t, a); s.Connections.WebSocket != len(conns) || s.Connections.WebSocket > agent.DefaultMaxConns {
		t.Fatalf("agent holds %d WebSocket connections, %d open here", s.Connections.WebSocket, len(conns))
	}
	netVersion(t, a, other)
	if r := call(t, conns[0], req("v", "version", nil)); !r.OK {
		t.Fatalf("a held connection: %+v", r)
	}
	// Hundreds of refusals, one log line (one per origin per minute).
	if n := strings.Count(a.Log(), "refused: per-origin connection cap reached"); n != 1 {
		t.Fatalf("%d log lines for the refusals, want 1", n)
	}
	netNoDialog(t, display)
	closeAll(conns)
	recovered(t, a, display, base, portal)
}

// The overall cap: many origins together get at most DefaultMaxConns
// connections (503 beyond); once some close, pages are served again.
func TestNetOverallCap(t *testing.T) {
	a, display, base := attack(t, map[string]any{"allowedOrigins": []string{portal, other, "https://*.load.gov.vn"}})
	const origins, per = 40, 28 // 1120 attempts, each origin under its own cap
	conns, statuses := netFlood(t, a, origins*per, func(i int) string {
		return "https://o" + strconv.Itoa(i%origins) + ".load.gov.vn"
	})
	defer closeAll(conns)
	if len(conns) != agent.DefaultMaxConns || statuses[http.StatusServiceUnavailable] != origins*per-agent.DefaultMaxConns {
		t.Fatalf("%d open, refusals %v; want %d open and the rest 503", len(conns), statuses, agent.DefaultMaxConns)
	}
	if _, st, _ := netDial(a, other); st != http.StatusServiceUnavailable {
		t.Fatalf("over the overall cap: HTTP %d, want 503", st)
	}
	if n := strings.Count(a.Log(), "refused: connection cap reached"); n != 1 {
		t.Fatalf("%d log lines for the refusals, want 1", n)
	}
	// The local socket has its own cap: the user's own tools still work.
	if s := stats(t, a); s.Connections.WebSocket != agent.DefaultMaxConns {
		t.Fatalf("stats: %+v", s)
	}
	closeAll(conns[:10])
	deadline := time.Now().Add(time.Minute)
	for stats(t, a).Connections.WebSocket > agent.DefaultMaxConns-10 {
		if time.Now().After(deadline) {
			t.Fatal("closed connections were not released")
		}
		time.Sleep(50 * time.Millisecond)
	}
	netVersion(t, a, other)
	closeAll(conns)
	recovered(t, a, display, base, portal)
}

// 100 slowloris clients: 50 stop in the middle of the HTTP upgrade
// request, 50 in the middle of a WebSocket frame after the upgrade (half a
// header, half a payload, or a message left unfinished with pongs sent
// between its fragments). While they hold, another page is served; the
// agent cuts every one of them within its bounds (the deadline here only
// bounds a hang; no timing is asserted).
func TestNetSlowloris(t *testing.T) {
	display := testenv.Display(t)
	a := startAgent(t, display, nil) // userApproval on: not-listed origins connect
	base := stats(t, a)
	host := netHost(a)
	const limit = 3 * time.Minute
	var cut []<-chan error
	stop := make(chan struct{})
	defer close(stop)
	for i := 0; i < 50; i++ {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		partial := []string{
			"GET /v1 HTTP/1.1\r\nHost: " + host + "\r\n",
			"GET /v1 HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgr",
			"GET /v1 HT",
			"G",
		}[i%4]
		if _, err := c.Write([]byte(partial)); err != nil {
			t.Fatal(err)
		}
		cut = append(cut, netClosed(c, limit))
	}
	halves := [][]byte{
		{0x81, 0xFE},                   // text frame, 16-bit length that never comes
		{0x81, 0x8A, 1, 2, 3, 4, 'x'},  // 10-byte masked payload, 1 byte sent
		{0x01, 0x81, 1, 2, 3, 4, '{'},  // first fragment (FIN=0) of a message that never ends
		{0x81, 0xFF, 0, 0, 0, 0, 0, 1}, // 64-bit length, cut short
	}
	for i := 0; i < 50; i++ {
		origin := "https://slow" + strconv.Itoa(i) + ".example"
		ws, st, err := netDial(a, origin)
		if ws == nil {
			t.Fatalf("slowloris %d: HTTP %d %v", i, st, err)
		}
		defer ws.Close()
		raw := ws.UnderlyingConn()
		half := halves[i%len(halves)]
		if _, err := raw.Write(half); err != nil {
			t.Fatal(err)
		}
		if half[0] == 0x01 {
			// Pongs between fragments: a sign of life that must not count.
			go func() {
				pong := []byte{0x8A, 0x80, 9, 9, 9, 9}
				tick := time.NewTicker(time.Second)
				defer tick.Stop()
				for {
					select {
					case <-tick.C:
						if _, err := raw.Write(pong); err != nil {
							return
						}
					case <-stop:
						return
					}
				}
			}()
		}
		cut = append(cut, netClosed(raw, limit))
	}
	// While they hold, other pages are served.
	netVersion(t, a, other)
	netVersion(t, a, portal)
	for i, done := range cut {
		if err := <-done; isTimeout(err) {
			t.Fatalf("slowloris client %d still held after %v", i, limit)
		}
	}
	netNoDialog(t, display)
	recovered(t, a, display, base, portal)
}

// 10,000 malformed or oversized messages over the WebSocket and the local
// socket: each is answered BAD_REQUEST (over 64 MiB: closed with 1009 on
// the WebSocket, closed on the local socket, as docs/agent.md says), no
// dialog opens, and the agent goes on serving.
func TestNetMalformedMessages(t *testing.T) {
	a, display, base := attack(t, nil)
	msgs := netMalformed(t, 10000)

	// Over the WebSocket, from 8 pages at once, each waiting for its answer
	// (more than 16 pending on one connection would be BUSY).
	const pages = 8
	var wg sync.WaitGroup
	errs := make(chan error, pages*2)
	half := len(msgs) / 2
	for p := 0; p < pages; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, _, err := a.Dial(portal)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for i := p; i < half; i += pages {
				typ := websocket.TextMessage
				if i%50 == 7 {
					typ = websocket.BinaryMessage
				}
				c.SetWriteDeadline(time.Now().Add(30 * time.Second))
				c.SetReadDeadline(time.Now().Add(30 * time.Second))
				if err := c.WriteMessage(typ, msgs[i]); err != nil {
					errs <- err
					return
				}
				_, b, err := c.ReadMessage()
				if err != nil {
					errs <- err
					return
				}
				if err := badRequest(b); err != nil {
					errs <- errors.New("message " + strconv.Quote(trunc(msgs[i])) + ": " + err.Error())
					return
				}
			}
		}()
	}
	// Over the local socket, as the native-messaging host relays them.
	for p := 0; p < pages; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("unix", a.Sock)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for i := half + p; i < len(msgs); i += pages {
				// Each as a request the relay forwards; every third as
				// the whole message on the socket instead.
				env := wire.Append(nil, wire.Message{Kind: wire.Request, Tag: uint64(i + 1), Origin: portal, Body: msgs[i]})
				if i%3 == 0 {
					env = msgs[i]
				}
				c.SetDeadline(time.Now().Add(30 * time.Second))
				if err := frame.Write(c, env); err != nil {
					errs <- err
					return
				}
				b, err := frame.Read(c, wire.MaxFrame)
				if err != nil {
					errs <- errors.New("envelope " + strconv.Quote(trunc(env)) + ": " + err.Error())
					return
				}
				m, err := wire.Parse(b)
				if err == nil && m.Kind == wire.Hello && len(env) > 0 && env[0] == wire.Hello {
					continue // a hello of another version gets the agent's
				}
				if err == nil && m.Kind == wire.Answer {
					b = m.Body // a JSON message is answered in JSON (another version)
				}
				if err := badRequest(b); err != nil {
					errs <- errors.New("envelope " + strconv.Quote(trunc(env)) + ": " + err.Error())
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}

	// Oversized: a request of an op other than the document operations
	// over 1 MiB is BAD_REQUEST with its id and the connection goes on;
	// 64 MiB + 1 closes the WebSocket with 1009.
	for i := 0; i < 3; i++ {
		c, _, err := a.Dial(portal)
		if err != nil {
			t.Fatal(err)
		}
		pad := strings.Repeat("A", frame.Max)
		if r := call(t, c, map[string]any{"id": "big", "op": "sign", "params": map[string]any{"hash": pad}}); r.Code() != "BAD_REQUEST" || r.ID != "big" {
			t.Fatalf("a 1 MiB sign over the WebSocket: %+v", r)
		}
		c.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte("a"), protocol.MaxDocumentMessage+1))
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, _, err := c.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
			t.Fatalf("64 MiB + 1 over the WebSocket: %v, want close 1009", err)
		}
		c.Close()
	}
	// On the local socket a length over the request limit (64 MiB + 1 MiB)
	// and a header closes the connection (the host checks sizes before it
	// sends); so does a frame of that length with the start of its body.
	for _, body := range [][]byte{nil, bytes.Repeat([]byte("a"), 2*frame.Max)} {
		c, err := net.Dial("unix", a.Sock)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(30 * time.Second))
		var hdr [4]byte
		binary.LittleEndian.PutUint32(hdr[:], wire.MaxRequestFrame+1)
		c.Write(append(hdr[:], body...))
		if b, err := frame.Read(c, wire.MaxFrame); err == nil {
			t.Fatalf("local socket still open after an oversized frame: answered %q", b)
		}
		c.Close()
	}
	// The agent's own question is the local socket's alone: a page learns
	// nothing about the machine.
	c, _, err := a.Dial(portal)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []map[string]any{{"op": "agentStats"}, {"id": "s", "op": "agentStats"}} {
		if r := call(t, c, m); r.OK || r.Code() == "" || bytes.Contains(r.Result, []byte("goroutines")) {
			t.Fatalf("agentStats over the WebSocket: %+v", r)
		}
	}
	c.Close()
	netNoDialog(t, display)
	netVersion(t, a, portal)
	if strings.Contains(a.Output(), "panic") {
		t.Fatalf("the agent panicked:\n%s", a.Output())
	}
	recovered(t, a, display, base, portal)
}

// netFlood opens n WebSocket connections at once (64 dialing at a time),
// origin(i) for the i-th, and returns the open ones and the count of each
// refusal status.
func netFlood(t *testing.T, a *testenv.Agent, n int, origin func(int) string) ([]*websocket.Conn, map[int]int) {
	t.Helper()
	var mu sync.Mutex
	var conns []*websocket.Conn
	statuses := map[int]int{}
	var firstErr error
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			c, st, err := netDial(a, origin(i))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case c != nil:
				conns = append(conns, c)
			case err != nil:
				if firstErr == nil {
					firstErr = err
				}
			default:
				statuses[st]++
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		closeAll(conns)
		t.Fatalf("dial: %v", firstErr)
	}
	return conns, statuses
}

func closeAll(conns []*websocket.Conn) {
	for _, c := range conns {
		c.Close()
	}
}

// netMalformed returns n messages that are each BAD_REQUEST by DESIGN:
// random bytes, not JSON, JSON that is not an object, wrong types, bad
// values, deep nesting, invalid UTF-8. None names an op that could open a
// dialog with valid parameters. The seed is fixed: a failure replays.
func netMalformed(t *testing.T, n int) [][]byte {
	t.Helper()
	rnd := rand.New(rand.NewPCG(8, 8))
	cid := certID(t, testenv.CertRSA)
	deep := func(open, close string, depth int) []byte {
		return []byte(strings.Repeat(open, depth) + strings.Repeat(close, depth))
	}
	fixed := [][]byte{
		[]byte(``), []byte(` `), []byte(`hello`), []byte(`{`), []byte(`}`), []byte(`[]`), []byte(`null`),
		[]byte(`123`), []byte(`"version"`), []byte(`true`), []byte(`{"id":"a","op":"version"`),
		[]byte(`{"id":"a","op":"version"}x`), []byte(`{"id":"a","op":"version"}{"id":"b","op":"version"}`),
		[]byte(`{"id":1,"op":"version"}`), []byte(`{"id":null,"op":"version"}`), []byte(`{"id":["a"],"op":"version"}`),
		[]byte(`{"id":"a","op":5}`), []byte(`{"id":"a","op":null}`), []byte(`{"id":"a"}`), []byte(`{"op":"version"}`),
		[]byte(`{"id":"","op":"version"}`), []byte(`{"id":"` + strings.Repeat("x", 65) + `","op":"version"}`),
		[]byte(`{"id":"a","op":"sign","params":"x"}`), []byte(`{"id":"a","op":"sign","params":[]}`),
		[]byte(`{"id":"a","op":"sign","params":{"certificateId":"` + cid + `","hash":7,"hashFunction":"SHA-256"}}`),
		[]byte(`{"id":"a","op":"sign","params":{"certificateId":"` + cid + `","hash":"***","hashFunction":"SHA-256"}}`),
		[]byte(`{"id":"a","op":"sign","params":{"certificateId":"` + cid + `","hash":"AAAA","hashFunction":"SHA-256"}}`),
		[]byte(`{"id":"a","op":"sign","params":{"certificateId":"` + cid + `","hash":"` + strings.Repeat("A", 44) + `","hashFunction":"MD5"}}`),
		[]byte(`{"id":"a","op":"signBatch","params":{"certificateId":"` + cid + `","hashes":[],"hashFunction":"SHA-256"}}`),
		[]byte(`{"id":"a","op":"signBatch","params":{"certificateId":"` + cid + `","hashes":"x","hashFunction":"SHA-256"}}`),
		[]byte(`{"id":"a","op":"getCertificate","params":7}`),
		[]byte("{\"id\":\"a\xff\",\"op\":\"version\"}"), []byte("{\"id\":\"a\",\"op\":\"vers\xc3\x28ion\"}"),
		[]byte("\xef\xbb\xbf{\"id\":\"a\",\"op\":\"version\"}"), []byte("{\"id\":\"a\",\"op\":\"version\"}\x00"),
		deep("[", "]", 100000), deep(`{"a":`, "}", 50000),
		append(append([]byte(`{"id":"a","op":"version","params":`), deep("[", "]", 20000)...), '}'),
	}
	out := make([][]byte, 0, n)
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			out = append(out, fixed[(i/2)%len(fixed)])
			continue
		}
		b := make([]byte, 1+rnd.IntN(300))
		for j := range b {
			b[j] = byte(rnd.Uint32())
		}
		if b[0] == '{' || b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r' {
			b[0] = '#'
		}
		out = append(out, b)
	}
	return out
}

// badRequest checks that b is a BAD_REQUEST response.
func badRequest(b []byte) error {
	var r response
	if err := json.Unmarshal(b, &r); err != nil {
		return errors.New("answer not JSON: " + trunc(b))
	}
	if r.OK || r.Code() != "BAD_REQUEST" {
		return errors.New("answer " + trunc(b) + ", want BAD_REQUEST")
	}
	return nil
}

func trunc(b []byte) string {
	if len(b) > 120 {
		return string(b[:120]) + "…"
	}
	return string(b)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded)
}

// bufioLine reads the status line of an HTTP answer.
func bufioLine(c net.Conn) (string, error) {
	var b []byte
	one := make([]byte, 1)
	for len(b) < 200 {
		if _, err := c.Read(one); err != nil {
			return string(b), err
		}
		if one[0] == '\n' {
			break
		}
		b = append(b, one[0])
	}
	return string(b), nil
}
