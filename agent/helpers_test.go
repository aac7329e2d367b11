package agent

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"kyso.vn/kyso/internal/frame"
	"kyso.vn/kyso/internal/testenv"
	"kyso.vn/kyso/internal/wire"
	"kyso.vn/kyso/protocol"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// running is an in-process agent on an ephemeral port and a private socket.
type running struct {
	a    *Agent
	port int
	sock string
	stop func() // stops the agent and waits for Run to return
}

// start runs an agent for eng until the test ends (or stop is called).
func start(t testing.TB, eng Engine, opt Options) *running {
	t.Helper()
	lns, port, err := ListenWS(0)
	if err != nil {
		t.Fatal(err)
	}
	// Not t.TempDir(): long test names would overflow sun_path.
	dir, err := os.MkdirTemp("", "kyso-agent-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "kyso", "agent.sock")
	local, err := ListenLocalAt(sock)
	if err != nil {
		t.Fatal(err)
	}
	opt.Engine = eng
	opt.Log = zerolog.New(zerolog.NewTestWriter(t)).With().Timestamp().Logger()
	a := New(opt)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, Listeners{WS: lns, Port: port, Local: local}) }()
	stopped := false
	r := &running{a: a, port: port, sock: sock}
	r.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	t.Cleanup(r.stop)
	return r
}

func (r *running) url() string { return "ws://127.0.0.1:" + strconv.Itoa(r.port) + "/v1" }

// dial opens a WebSocket as a page of origin would ("" sends no Origin).
func (r *running) dial(t testing.TB, origin string) *websocket.Conn {
	t.Helper()
	c, resp, err := r.dialRaw(r.url(), origin, "")
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s as %q: %v (HTTP %d)", r.url(), origin, err, status)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (r *running) dialRaw(url, origin, host string) (*websocket.Conn, *http.Response, error) {
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	if host != "" {
		h.Set("Host", host) // gorilla sends it as the request's Host
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return websocket.DefaultDialer.DialContext(ctx, url, h)
}

// status returns the HTTP status of a refused handshake.
func (r *running) status(t *testing.T, url, origin, host string) int {
	t.Helper()
	c, resp, err := r.dialRaw(url, origin, host)
	if err == nil {
		c.Close()
		return http.StatusSwitchingProtocols
	}
	if resp == nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	return resp.StatusCode
}

// response is a protocol v1 response as a page reads it.
type response = protocol.Response

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readWS(t *testing.T, c *websocket.Conn) response {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
	typ, msg, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if typ != websocket.TextMessage {
		t.Fatalf("got message type %d, want text", typ)
	}
	var r response
	if err := json.Unmarshal(msg, &r); err != nil {
		t.Fatalf("response %s: %v", msg, err)
	}
	return r
}

// callWS sends one request and reads one response.
func callWS(t *testing.T, c *websocket.Conn, req any) response {
	t.Helper()
	if err := c.WriteMessage(websocket.TextMessage, mustJSON(t, req)); err != nil {
		t.Fatal(err)
	}
	return readWS(t, c)
}

// dialLocal opens the agent's local socket.
func (r *running) dialLocal(t *testing.T) net.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := DialLocalAt(ctx, r.sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// localTags are the tags the tests' requests on the local socket carry, as
// the relay's do.
var localTags atomic.Uint64

// sendLocal sends req of origin on the local socket, as the host's relay
// does (internal/wire).
func sendLocal(t *testing.T, c net.Conn, origin string, req any) error {
	t.Helper()
	return frame.Write(c, wire.Append(nil, wire.Message{Kind: wire.Request, Tag: localTags.Add(1), Origin: origin, Body: mustJSON(t, req)}))
}

// readLocal reads the next answer on the local socket.
func readLocal(t *testing.T, c net.Conn) response {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
	msg, err := frame.Read(c, wire.MaxFrame)
	if err != nil {
		t.Fatalf("read frame: %v", err)
	}
	m, err := wire.Parse(msg)
	if err != nil || m.Kind != wire.Answer {
		t.Fatalf("answer %q: %v", msg, err)
	}
	var r response
	if err := json.Unmarshal(m.Body, &r); err != nil {
		t.Fatalf("response %s: %v", m.Body, err)
	}
	return r
}

func callLocal(t *testing.T, c net.Conn, origin string, req any) response {
	t.Helper()
	if err := sendLocal(t, c, origin, req); err != nil {
		t.Fatal(err)
	}
	return readLocal(t, c)
}

// waitGoroutines waits until at most n goroutines run, and fails with a
// dump of them if that never happens. No timing is asserted: the deadline
// only bounds a hang.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines still running, want ≤ %d:\n%s", runtime.NumGoroutine(), n, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func req(id, op string, params any) map[string]any {
	m := map[string]any{"id": id, "op": op}
	if params != nil {
		m["params"] = params
	}
	return m
}
