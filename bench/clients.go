package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"time"

	"github.com/gorilla/websocket"

	"kyso.vn/kyso/internal/frame"
	"kyso.vn/kyso/protocol"
)

// benchOrigin is the page origin every request comes from; the bench
// config lists it in allowedOrigins, so no approval dialog is involved.
const benchOrigin = "https://bench.kyso.test"

// tabOrigins is how many more origins the held-connections figure spreads
// its connections over: the agent lets one origin hold at most
// agent.DefaultMaxConnsPerOrigin (32) WebSockets, so 500 connections are
// 20 origins of 25, as 20 portals' tabs would be.
const tabOrigins = 20

func tabOrigin(i int) string { return fmt.Sprintf("https://tab%02d.bench.kyso.test", i%tabOrigins) }

// response is a protocol v1 response as the bench reads it.
type response = protocol.Response

func parseResponse(raw []byte) (response, error) {
	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, fmt.Errorf("response not JSON: %w", err)
	}
	if !r.OK {
		if r.Error != nil {
			return r, fmt.Errorf("request failed: %s: %s", r.Error.Code, r.Error.Message)
		}
		return r, fmt.Errorf("request failed: %s", raw)
	}
	return r, nil
}

// roundTripper sends one raw request and returns the raw response.
type roundTripper interface {
	roundTrip(req []byte) ([]byte, error)
	Close() error
}

// wsClient is a page's WebSocket to the agent.
type wsClient struct{ c *websocket.Conn }

func dialWS(port int) (*wsClient, error) { return dialWSAs(port, benchOrigin) }

func dialWSAs(port int, origin string) (*wsClient, error) {
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	c, resp, err := d.Dial(fmt.Sprintf("ws://127.0.0.1:%d/v1", port), http.Header{"Origin": {origin}})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("websocket dial: %w (HTTP %s)", err, resp.Status)
		}
		return nil, fmt.Errorf("websocket dial: %w", err)
	}
	return &wsClient{c: c}, nil
}

func (w *wsClient) roundTrip(req []byte) ([]byte, error) {
	if err := w.c.WriteMessage(websocket.TextMessage, req); err != nil {
		return nil, err
	}
	for {
		_, msg, err := w.c.ReadMessage()
		if err != nil || !isProgress(msg) {
			return msg, err
		}
	}
}

// isProgress tells a progress message (a long batch's, before its answer)
// from the answer; answers have no "progress" key.
func isProgress(msg []byte) bool {
	if !bytes.Contains(msg, []byte(`"progress"`)) {
		return false
	}
	var m struct {
		Progress json.RawMessage `json:"progress"`
	}
	return json.Unmarshal(msg, &m) == nil && m.Progress != nil
}

func (w *wsClient) Close() error { return w.c.Close() }

// hostClient is the browser's side of `kyso host`: it starts the host as a
// browser would (argv[1] the extension origin) and speaks native messaging
// on its stdin/stdout, wrapping each request in the extension's envelope.
type hostClient struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out io.ReadCloser
}

func startHost(bin string, env []string, extOrigin string) (*hostClient, error) {
	cmd := exec.Command(bin, extOrigin)
	cmd.Env = env
	in, out, err := startPiped(cmd)
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	return &hostClient{cmd: cmd, in: in, out: out}, nil
}

// startPiped starts a child process of the bench (the host, the floor)
// speaking on its stdin and stdout; its stderr goes to ours.
func startPiped(cmd *exec.Cmd) (io.WriteCloser, io.ReadCloser, error) {
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	return in, out, nil
}

func envelope(req []byte) []byte {
	b, _ := json.Marshal(struct {
		Origin  string          `json:"origin"`
		Request json.RawMessage `json:"request"`
	}{benchOrigin, req})
	return b
}

func (h *hostClient) roundTrip(req []byte) ([]byte, error) {
	if err := frame.Write(h.in, envelope(req)); err != nil {
		return nil, fmt.Errorf("writing to the host: %w", err)
	}
	for {
		msg, err := frame.Read(h.out, frame.Max)
		if err != nil {
			return nil, fmt.Errorf("reading from the host: %w", err)
		}
		if !isProgress(msg) {
			return msg, nil
		}
	}
}

// Close closes the port as the browser does and waits for the host to exit.
func (h *hostClient) Close() error {
	h.in.Close()
	done := make(chan error, 1)
	go func() { done <- h.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		h.cmd.Process.Kill()
		return fmt.Errorf("host did not exit after its port closed")
	}
}
