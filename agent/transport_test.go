//go:build linux || darwin

package agent

// Transport tests with a stand-in engine: what the agent itself does
// (handshake checks, limits, concurrency, cancellation, shutdown), apart from
// what the engine answers. The real engine is in integration_test.go.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
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

const goodOrigin = "https://portal.example.gov.vn"

// echoEngine answers "echo" with the origin it was given, and "block" only
// once its context ends, reporting both moments.
type echoEngine struct {
	started chan string // ids of block requests as they start
	ended   chan string // ids of block requests whose ctx ended
}

func newEcho() *echoEngine {
	return &echoEngine{started: make(chan string, 100), ended: make(chan string, 100)}
}

func (e *echoEngine) MayAsk(origin string) error {
	if origin != goodOrigin {
		return errors.New("not allowed")
	}
	return nil
}

// Allowed: every origin counts as allowed, under one connection cap.
func (e *echoEngine) Allowed(string) bool { return true }

func (e *echoEngine) Handle(ctx context.Context, origin string, raw []byte, _ func([]byte)) []byte {
	var r struct{ ID, Op string }
	if json.Unmarshal(raw, &r) != nil {
		return protocol.ErrorResponse("", "BAD_REQUEST", "bad")
	}
	switch r.Op {
	case "echo":
		b, _ := json.Marshal(map[string]any{"id": r.ID, "ok": true, "result": map[string]string{"origin": origin}})
		return b
	case "block":
		e.started <- r.ID
		<-ctx.Done()
		e.ended <- r.ID
		return protocol.ErrorResponse(r.ID, "USER_CANCELLED", "gone")
	}
	return protocol.ErrorResponse(r.ID, "UNKNOWN_OP", "?")
}

func TestHandshakeChecks(t *testing.T) {
	r := start(t, newEcho(), Options{})
	p := strconv.Itoa(r.port)
	cases := []struct {
		name, url, origin, host string
		want                    int
	}{
		{"ok", r.url(), goodOrigin, "", http.StatusSwitchingProtocols},
		{"localhost host", r.url(), goodOrigin, "localhost:" + p, http.StatusSwitchingProtocols},
		{"ipv6 host", r.url(), goodOrigin, "[::1]:" + p, http.StatusSwitchingProtocols},
		{"rebinding host", r.url(), goodOrigin, "evil.com:" + p, http.StatusMisdirectedRequest},
		{"rebinding host, default port", r.url(), goodOrigin, "evil.com:28418", http.StatusMisdirectedRequest},
		{"host without port", r.url(), goodOrigin, "127.0.0.1", http.StatusMisdirectedRequest},
		{"host other port", r.url(), goodOrigin, "127.0.0.1:1", http.StatusMisdirectedRequest},
		{"evil origin", r.url(), "https://evil.example", "", http.StatusForbidden},
		{"no origin", r.url(), "", "", http.StatusForbidden},
		{"null origin", r.url(), "null", "", http.StatusForbidden},
		{"other path", "ws://127.0.0.1:" + p + "/v2", goodOrigin, "", http.StatusNotFound},
		{"root path", "ws://127.0.0.1:" + p + "/", goodOrigin, "", http.StatusNotFound},
	}
	for _, c := range cases {
		if got := r.status(t, c.url, c.origin, c.host); got != c.want {
			t.Errorf("%s: HTTP %d, want %d", c.name, got, c.want)
		}
	}
	// [::1] serves too, when the machine has IPv6 loopback.
	if ln, err := net.Listen("tcp", "[::1]:0"); err == nil {
		ln.Close()
		if got := r.status(t, "ws://[::1]:"+p+"/v1", goodOrigin, ""); got != http.StatusSwitchingProtocols {
			t.Errorf("[::1]: HTTP %d, want 101", got)
		}
	}
}

func TestListenLoopbackOnly(t *testing.T) {
	lns, port, err := ListenWS(0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, l := range lns {
			l.Close()
		}
	}()
	for _, l := range lns {
		a := l.Addr().(*net.TCPAddr)
		if !a.IP.IsLoopback() || a.Port != port {
			t.Errorf("listening on %v, want loopback port %d", a, port)
		}
	}
	// The port is taken now: a second agent cannot bind it.
	if _, _, err := ListenWS(port); err == nil {
		t.Error("second ListenWS on a taken port succeeded")
	}
}

func TestWSMessages(t *testing.T) {
	r := start(t, newEcho(), Options{})
	c := r.dial(t, goodOrigin)
	// The origin comes from the handshake, never from the message.
	resp := callWS(t, c, map[string]any{"id": "a", "op": "echo", "origin": "https://evil.example"})
	if !resp.OK || string(resp.Result) != `{"origin":"`+goodOrigin+`"}` {
		t.Fatalf("echo: %+v %s", resp, resp.Result)
	}
	// Binary frames are refused, and the connection goes on.
	if err := c.WriteMessage(websocket.BinaryMessage, []byte(`{"id":"b","op":"echo"}`)); err != nil {
		t.Fatal(err)
	}
	if resp := readWS(t, c); resp.Code() != "BAD_REQUEST" || resp.ID != "" || resp.Error.Message == "" {
		t.Fatalf("binary: %+v", resp)
	}
	// (A panic in the engine is the engine's to recover:
	// engine.TestPanicIsInternal.)
	if resp := callWS(t, c, req("c", "echo", nil)); !resp.OK || resp.ID != "c" {
		t.Fatalf("after: %+v", resp)
	}
	// Over 1 MiB: read (a document operation's may be up to 64 MiB:
	// TestWSDocumentLimit) and left to the engine, which holds each op to
	// its limit; the connection goes on.
	big := bytes.Repeat([]byte("a"), frame.Max+1)
	if err := c.WriteMessage(websocket.TextMessage, big); err != nil {
		t.Fatal(err)
	}
	if resp := readWS(t, c); resp.Code() != "BAD_REQUEST" {
		t.Fatalf("over 1 MiB: %+v", resp)
	}
	// Exactly 1 MiB is a message too.
	if err := c.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte(" "), frame.Max)); err != nil {
		t.Fatal(err)
	}
	if resp := readWS(t, c); resp.Code() != "BAD_REQUEST" {
		t.Fatalf("1 MiB of spaces: %+v", resp)
	}
}

// Requests on one connection run concurrently; past the in-flight cap the
// agent answers BUSY at once; closing the connection cancels the pending.
func TestWSConcurrencyAndCancel(t *testing.T) {
	before := runtime.NumGoroutine()
	eng := newEcho()
	r := start(t, eng, Options{MaxInFlight: 3})
	c := r.dial(t, goodOrigin)
	for i := range 3 {
		if err := c.WriteMessage(websocket.TextMessage, mustJSON(t, req("blk"+strconv.Itoa(i), "block", nil))); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		<-eng.started
	}
	// The fourth is over the cap; an echo after the three still would
	// be too, so the answer proves the three did not block the reader.
	if resp := callWS(t, c, req("x", "echo", nil)); resp.Code() != "BUSY" || resp.ID != "x" {
		t.Fatalf("over the in-flight cap: %+v", resp)
	}
	// Another connection is not affected.
	c2 := r.dial(t, goodOrigin)
	if resp := callWS(t, c2, req("y", "echo", nil)); !resp.OK {
		t.Fatalf("other connection: %+v", resp)
	}
	closeCancels(t, eng, c, 3)
	c2.Close()
	r.stop()
	waitGoroutines(t, before)
}

// The same on the local socket (kyso host's relay): requests that wait
// (here "block", as a dialog would) each get their place and the reading
// goes on past them; past the cap BUSY; quick requests between them are
// answered; closing the connection cancels the waiting ones.
func TestLocalConcurrencyAndCancel(t *testing.T) {
	before := runtime.NumGoroutine()
	eng := newEcho()
	r := start(t, eng, Options{MaxInFlight: 3})
	c := r.dialLocal(t)
	for i := range 3 {
		if i == 1 {
			// A quick request while one waits: answered, in the reading
			// goroutine, and the reading goes on.
			if resp := callLocal(t, c, goodOrigin, req("q", "echo", nil)); !resp.OK || resp.ID != "q" {
				t.Fatalf("quick request while one waits: %+v", resp)
			}
		}
		if err := sendLocal(t, c, goodOrigin, req("blk"+strconv.Itoa(i), "block", nil)); err != nil {
			t.Fatal(err)
		}
		<-eng.started
	}
	if resp := callLocal(t, c, goodOrigin, req("x", "echo", nil)); resp.Code() != "BUSY" || resp.ID != "x" {
		t.Fatalf("over the in-flight cap: %+v", resp)
	}
	c2 := r.dialLocal(t)
	if resp := callLocal(t, c2, goodOrigin, req("y", "echo", nil)); !resp.OK {
		t.Fatalf("other connection: %+v", resp)
	}
	closeCancels(t, eng, c, 3)
	c2.Close()
	r.stop()
	waitGoroutines(t, before)
}

// closeCancels closes c and checks that its n blocked operations ended.
func closeCancels(t *testing.T, eng *echoEngine, c io.Closer, n int) {
	t.Helper()
	c.Close()
	got := map[string]bool{}
	for range n {
		got[<-eng.ended] = true
	}
	if len(got) != n {
		t.Fatalf("cancelled: %v", got)
	}
}

func TestConnectionCap(t *testing.T) {
	r := start(t, newEcho(), Options{MaxConns: 2})
	r.dial(t, goodOrigin)
	r.dial(t, goodOrigin)
	if got := r.status(t, r.url(), goodOrigin, ""); got != http.StatusServiceUnavailable {
		t.Fatalf("third connection: HTTP %d, want 503", got)
	}
}

// Shutdown cancels pending operations, closes the connections with 1001,
// removes the socket file and leaves no goroutine behind.
func TestShutdown(t *testing.T) {
	before := runtime.NumGoroutine()
	eng := newEcho()
	r := start(t, eng, Options{})
	ws := r.dial(t, goodOrigin)
	lc := r.dialLocal(t)
	if err := ws.WriteMessage(websocket.TextMessage, mustJSON(t, req("w", "block", nil))); err != nil {
		t.Fatal(err)
	}
	if err := sendLocal(t, lc, goodOrigin, req("l", "block", nil)); err != nil {
		t.Fatal(err)
	}
	<-eng.started
	<-eng.started
	r.stop()
	got := map[string]bool{<-eng.ended: true, <-eng.ended: true}
	if !got["w"] || !got["l"] {
		t.Fatalf("cancelled at shutdown: %v", got)
	}
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue // the cancelled answer may still arrive first
		}
		if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Errorf("websocket after shutdown: %v, want close 1001", err)
		}
		break
	}
	if _, err := os.Stat(r.sock); !os.IsNotExist(err) {
		t.Errorf("socket file after shutdown: %v", err)
	}
	ws.Close()
	lc.Close()
	waitGoroutines(t, before)
}

func TestLocalSocket(t *testing.T) {
	r := start(t, newEcho(), Options{MaxInFlight: 2})
	st, err := os.Stat(r.sock)
	if err != nil {
		t.Fatal(err)
	}
	if m := st.Mode().Perm(); m != 0o600 {
		t.Errorf("socket mode %o, want 600", m)
	}
	if dst, _ := os.Stat(r.sock[:len(r.sock)-len("/agent.sock")]); dst.Mode().Perm() != 0o700 {
		t.Errorf("socket dir mode %o, want 700", dst.Mode().Perm())
	}
	c := r.dialLocal(t)
	if resp := callLocal(t, c, goodOrigin, req("a", "echo", nil)); !resp.OK || string(resp.Result) != `{"origin":"`+goodOrigin+`"}` {
		t.Fatalf("echo: %+v", resp)
	}
	// Broken messages: BAD_REQUEST, and the stream goes on.
	for _, bad := range []string{"nope", "r\x00\x00\x00\x00\x00\x00\x00\x01\xff\xff\xff\xffx", "s\x00", ""} {
		if err := frame.Write(c, []byte(bad)); err != nil {
			t.Fatal(err)
		}
		if resp := readLocal(t, c); resp.Code() != "BAD_REQUEST" || resp.ID != "" {
			t.Errorf("message %q: %+v", bad, resp)
		}
	}
	// A Kyso host of another version (a JSON envelope, from before the
	// local socket's framing) is answered in JSON, BAD_REQUEST.
	if err := frame.Write(c, []byte(`{"origin":"x","request":{"id":"o","op":"version"}}`)); err != nil {
		t.Fatal(err)
	}
	if msg, err := frame.Read(c, wire.MaxFrame); err != nil || !strings.Contains(string(msg), `"BAD_REQUEST"`) {
		t.Errorf("JSON envelope: %q %v", msg, err)
	}
	// In-flight cap.
	for _, id := range []string{"b1", "b2"} {
		if err := sendLocal(t, c, goodOrigin, req(id, "block", nil)); err != nil {
			t.Fatal(err)
		}
	}
	if resp := callLocal(t, c, goodOrigin, req("x", "echo", nil)); resp.Code() != "BUSY" || resp.ID != "x" {
		t.Fatalf("over the in-flight cap: %+v", resp)
	}
	// A length over the limit cannot be skipped: the connection closes
	// (the host checks the size before it sends).
	var hdr [4]byte
	binary.LittleEndian.PutUint32(hdr[:], wire.MaxFrame+1)
	if _, err := c.Write(hdr[:]); err != nil {
		t.Fatal(err)
	}
	// The two blocked requests are cancelled by the close and may still
	// be answered on the way out; after them the stream must end.
	for i := 0; ; i++ {
		msg, err := frame.Read(c, wire.MaxFrame)
		if err != nil {
			break
		}
		if i == 2 {
			t.Fatalf("connection still open after a too-large frame: %q", msg)
		}
		var resp response
		m, err := wire.Parse(msg)
		if err != nil || json.Unmarshal(m.Body, &resp) != nil || (resp.ID != "b1" && resp.ID != "b2") {
			t.Fatalf("after a too-large frame: %q", msg)
		}
	}
}

func TestLocalSocketSecondAgentAndStale(t *testing.T) {
	r := start(t, newEcho(), Options{})
	if _, err := ListenLocalAt(r.sock); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second listener: %v, want ErrAlreadyRunning", err)
	}
	// The running agent is untouched.
	if resp := callLocal(t, r.dialLocal(t), goodOrigin, req("a", "echo", nil)); !resp.OK {
		t.Fatalf("after the refused second agent: %+v", resp)
	}
	r.stop()

	// A crashed agent leaves its socket file: nothing answers, so it is
	// replaced.
	ln, err := net.Listen("unix", r.sock)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Stat(r.sock); err != nil {
		t.Fatalf("stale socket not left behind: %v", err)
	}
	ln2, err := ListenLocalAt(r.sock)
	if err != nil {
		t.Fatalf("over a stale socket: %v", err)
	}
	ln2.Close()

	// A file that is not a socket is not ours to delete.
	if err := os.WriteFile(r.sock, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ListenLocalAt(r.sock); err == nil {
		t.Fatal("listened over a regular file")
	}
}

func TestPeerUID(t *testing.T) {
	r := start(t, newEcho(), Options{})
	c := r.dialLocal(t)
	// The server side of this connection sees our uid.
	var wg sync.WaitGroup
	wg.Add(1)
	ln, err := net.Listen("unix", r.sock+".2")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		defer wg.Done()
		s, err := ln.Accept()
		if err != nil {
			t.Error(err)
			return
		}
		defer s.Close()
		uid, err := peerUID(s)
		if err != nil || uid != os.Getuid() {
			t.Errorf("peerUID = %d, %v; want %d", uid, err, os.Getuid())
		}
	}()
	c2, err := net.Dial("unix", r.sock+".2")
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	c2.Close()
	_ = c
}
