package host

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/engine"
	"kyso.vn/kyso/internal/extid"
	"kyso.vn/kyso/internal/frame"
	"kyso.vn/kyso/protocol"
)

func TestCheckCaller(t *testing.T) {
	id := extid.Kyso.Development.ChromiumID
	policy := []string{"abcdefghijklmnopabcdefghijklmnop"} // the system policy's extensionIds
	for _, args := range [][]string{
		{"chrome-extension://" + id + "/"},
		{"chrome-extension://" + id + "/", "--parent-window=1234"},
		{"chrome-extension://" + policy[0] + "/"},
		{"/usr/lib/mozilla/native-messaging-hosts/vn.kyso.signer.json", extid.Kyso.Firefox.ID},
	} {
		if c, err := CheckCaller(args, policy); err != nil {
			t.Errorf("CheckCaller(%q) = %v", args, err)
		} else if c.ID != id && c.ID != extid.Kyso.Firefox.ID && c.ID != policy[0] {
			t.Errorf("CheckCaller(%q) = %v", args, c)
		}
	}
	for _, args := range [][]string{
		nil,
		{"chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"},
		{"chrome-extension://" + policy[0] + "/"}, // without the policy below
		{"chrome-extension://" + id + "x/"},
		{"chrome-extension://" + id + "/", "--evil"},
		{"/tmp/vn.kyso.signer.json", "other@example.com"},
		{"/tmp/vn.kyso.signer.json"},
		{"serve"},
	} {
		if c, err := CheckCaller(args, nil); err == nil {
			t.Errorf("CheckCaller(%q) accepted %v", args, c)
		}
	}
	// A malformed policy entry never matches, even as a prefix trick.
	if c, err := CheckCaller([]string{"chrome-extension://x/"}, []string{"x"}); err == nil {
		t.Errorf("a malformed policy id was accepted: %v", c)
	}
}

// harness runs Run over pipes, as a browser would drive it.
type harness struct {
	t    *testing.T
	in   *io.PipeWriter
	out  *io.PipeReader
	done chan error
}

func start(t *testing.T, b Backend) *harness {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	h := &harness{t: t, in: inW, out: outR, done: make(chan error, 1)}
	go func() {
		err := Run(context.Background(), inR, outW, b, zerolog.New(io.Discard))
		outW.Close()
		h.done <- err
	}()
	t.Cleanup(func() { inW.Close(); go io.Copy(io.Discard, outR) })
	return h
}

func (h *harness) raw(b []byte) {
	h.t.Helper()
	if _, err := h.in.Write(b); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) send(msg string) {
	h.t.Helper()
	if err := frame.WriteMax(h.in, []byte(msg), maxEnvelope); err != nil {
		h.t.Fatal(err)
	}
}

type response struct {
	ID     string          `json:"id"`
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result"`
	Error  struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (h *harness) recv() response {
	h.t.Helper()
	b, err := frame.Read(h.out, frame.Max)
	if err != nil {
		h.t.Fatalf("reading a response: %v", err)
	}
	var r response
	if err := json.Unmarshal(b, &r); err != nil {
		h.t.Fatalf("response %q: %v", b, err)
	}
	return r
}

func (h *harness) wantError(id, code string) {
	h.t.Helper()
	r := h.recv()
	if r.OK || r.ID != id || r.Error.Code != code || r.Error.Message == "" {
		h.t.Fatalf("got %+v; want id %q error %s", r, id, code)
	}
}

// end closes stdin and reads what the host still writes (the answers of
// cancelled operations) until it closes stdout.
func (h *harness) end() error {
	h.t.Helper()
	h.in.Close()
	for {
		if _, err := frame.Read(h.out, frame.Max); err == io.EOF {
			break
		} else if err != nil {
			h.t.Fatalf("after stdin closed: %v", err)
		}
	}
	return <-h.done
}

// echo answers every request with its origin; "block" waits for the
// browser to go away and records that it was cancelled.
type echo struct {
	mu        sync.Mutex
	cancelled []string
	started   chan string
}

func (e *echo) Answer(ctx context.Context, origin string, r engine.Request, _ func([]byte)) []byte {
	switch r.Op {
	case "block":
		if e.started != nil {
			e.started <- r.ID
		}
		<-ctx.Done()
		e.mu.Lock()
		e.cancelled = append(e.cancelled, r.ID)
		e.mu.Unlock()
		return []byte(`{"id":` + quote(r.ID) + `,"ok":false,"error":{"code":"USER_CANCELLED","message":"x"}}`)
	case "huge": // over what the extension joins
		return []byte(`{"id":` + quote(r.ID) + `,"ok":true,"result":{"x":"` + strings.Repeat("A", protocol.MaxAnswer) + `"}}`)
	}
	return []byte(`{"id":` + quote(r.ID) + `,"ok":true,"result":{"origin":` + quote(origin) + `}}`)
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

func (h *harness) wantOrigin(id, origin string) {
	h.t.Helper()
	r := h.recv()
	var res struct{ Origin string }
	json.Unmarshal(r.Result, &res)
	if !r.OK || r.ID != id || res.Origin != origin {
		h.t.Fatalf("got %+v %s; want id %q from %q", r, r.Result, id, origin)
	}
}

func TestRunBadMessages(t *testing.T) {
	h := start(t, &echo{})
	h.send(`not json`)
	h.wantError("", "BAD_REQUEST")
	h.send(`{"origin":"https://a.vn","request":"version"}`)
	h.wantError("", "BAD_REQUEST")
	h.send(`{"origin":"https://a.vn","request":[1]}`)
	h.wantError("", "BAD_REQUEST")
	h.send(`{"origin":"https://a.vn"}`)
	h.wantError("", "BAD_REQUEST")
	h.send(`{"origin":"https://a.vn","request":{"op":"version"}}`)
	h.wantError("", "BAD_REQUEST")
	h.send(`{"origin":"https://a.vn","request":{"id":"","op":"version"}}`)
	h.wantError("", "BAD_REQUEST")
	h.send(`{"origin":"https://a.vn","request":{"id":"` + strings.Repeat("x", 65) + `","op":"version"}}`)
	h.wantError("", "BAD_REQUEST")
	h.send(`{"origin":"https://a.vn","request":{"id":7,"op":"version"}}`)
	h.wantError("", "BAD_REQUEST")
	h.send(`{"request":{"id":"r1","op":"version"}}`)
	h.wantError("r1", "BAD_REQUEST")
	h.send(`{"origin":"https://a.vn","request":{"id":"r2","op":"version"}`) // truncated JSON
	h.wantError("", "BAD_REQUEST")
	h.send("{\"origin\":\"https://a.vn\xff\",\"request\":{\"id\":\"r3\"}}") // not UTF-8
	h.wantError("", "BAD_REQUEST")
	h.send(``)
	h.wantError("", "BAD_REQUEST")
	// The stream is still in sync after all that.
	h.send(`{"origin":"https://a.vn","request":{"id":"ok","op":"version"}}`)
	h.wantOrigin("ok", "https://a.vn")
	// An empty origin is the engine's to deny, not a malformed envelope.
	h.send(`{"origin":"","request":{"id":"e","op":"version"}}`)
	h.wantOrigin("e", "")
	if err := h.end(); err != nil {
		t.Fatal(err)
	}
}

func TestRunTooLarge(t *testing.T) {
	h := start(t, &echo{})
	var hdr [4]byte
	binary.LittleEndian.PutUint32(hdr[:], maxEnvelope+1)
	h.raw(hdr[:])
	h.wantError("", "BAD_REQUEST")
	// The body was never read: Run gives up on the stream.
	if _, err := frame.Read(h.out, frame.Max); err != io.EOF {
		t.Fatalf("after a too-large frame: %v; want EOF", err)
	}
	if err := <-h.done; err == nil {
		t.Fatal("Run returned nil after an unsyncable frame")
	}
}

func TestRunShortHeader(t *testing.T) {
	h := start(t, &echo{})
	h.raw([]byte{3, 0})
	if err := h.end(); err != nil {
		t.Fatal(err)
	}
}

func TestRunTruncatedBody(t *testing.T) {
	h := start(t, &echo{})
	h.raw([]byte{100, 0, 0, 0, '{'})
	if err := h.end(); err != nil {
		t.Fatal(err)
	}
}

func TestRunResponseTooLarge(t *testing.T) {
	h := start(t, &echo{})
	h.send(`{"origin":"https://a.vn","request":{"id":"big","op":"huge"}}`)
	h.wantError("big", "BAD_REQUEST")
	h.end()
}

// A request over its op's limit is refused by the host itself, before any
// backend (the relay would carry it to the agent), and the stream goes on.
func TestRunRequestOverOpLimit(t *testing.T) {
	h := start(t, &echo{})
	pad := strings.Repeat("A", protocol.MaxMessage)
	h.send(`{"origin":"https://a.vn","request":{"id":"s","op":"sign","params":{"hash":"` + pad + `"}}}`)
	h.wantError("s", "BAD_REQUEST")
	h.send(`{"origin":"https://a.vn","request":{"id":"ok","op":"version"}}`)
	h.wantOrigin("ok", "https://a.vn")
	h.end()
}

// TestRunConcurrent: a request waiting on the person does not hold up
// another, and closing stdin cancels what is still pending.
func TestRunConcurrent(t *testing.T) {
	e := &echo{started: make(chan string, 2)}
	h := start(t, e)
	h.send(`{"origin":"https://a.vn","request":{"id":"b1","op":"block"}}`)
	h.send(`{"origin":"https://a.vn","request":{"id":"b2","op":"block"}}`)
	<-e.started
	<-e.started
	for i := range 20 {
		h.send(fmt.Sprintf(`{"origin":"https://a.vn","request":{"id":"v%d","op":"version"}}`, i))
	}
	seen := map[string]bool{}
	for range 20 {
		r := h.recv()
		if !r.OK {
			t.Fatalf("got %+v", r)
		}
		seen[r.ID] = true
	}
	if len(seen) != 20 {
		t.Fatalf("answers: %v", seen)
	}
	if err := h.end(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(e.cancelled)
	if !slices.Equal(e.cancelled, []string{"b1", "b2"}) {
		t.Fatalf("cancelled %v; want b1 b2", e.cancelled)
	}
}

// TestRunBrowserGone: when stdout breaks the host stops.
func TestRunBrowserGone(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	outR.Close()
	done := make(chan error, 1)
	go func() { done <- Run(context.Background(), inR, outW, &echo{}, zerolog.New(io.Discard)) }()
	frame.Write(inW, []byte(`{"origin":"https://a.vn","request":{"id":"x","op":"version"}}`))
	// The browser closes both ends; the answer's write fails either way.
	inW.Close()
	if err := <-done; err == nil {
		t.Fatal("Run returned nil with a broken stdout")
	}
}
