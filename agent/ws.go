package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"kyso.vn/kyso/internal/frame"
	"kyso.vn/kyso/internal/wire"
	"kyso.vn/kyso/prompt"
)

var errServerClosed = http.ErrServerClosed

// WebSocket timing. Browsers answer pings by themselves, so a page that
// waits two minutes for the user's PIN keeps its connection.
const (
	pingPeriod = 30 * time.Second
	pongWait   = 75 * time.Second // > pingPeriod plus a slow round trip
	writeWait  = 10 * time.Second
)

// ListenWS binds the WebSocket port on 127.0.0.1 and [::1] (never on all
// interfaces). It fails only if neither binds, so a machine without IPv6
// (or IPv4) loopback still works. Port 0 picks a free port (tests); the
// returned port is the one bound.
func ListenWS(port int) ([]net.Listener, int, error) {
	var lns []net.Listener
	var errs []error
	for _, host := range []string{"127.0.0.1", "::1"} {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		lns = append(lns, ln)
		// With port 0 the first listener picks it; the second must match
		// so the Host check and pages see one port.
		port = ln.Addr().(*net.TCPAddr).Port
	}
	if len(lns) == 0 {
		return nil, 0, fmt.Errorf("agent: cannot listen on loopback port %d: %w", port, errors.Join(errs...))
	}
	return lns, port, nil
}

type wsServer struct {
	a     *Agent
	port  int
	hosts []string // the Host headers accepted
	up    websocket.Upgrader
	http  *http.Server
}

func (a *Agent) newWSServer(port int) *wsServer {
	p := strconv.Itoa(port)
	s := &wsServer{a: a, port: port, hosts: []string{"127.0.0.1:" + p, "localhost:" + p, "[::1]:" + p}}
	s.up = websocket.Upgrader{
		HandshakeTimeout: writeWait,
		// The Origin check proper happens in ServeHTTP (so the refusal is
		// logged with its reason); this repeats it so the upgrader can
		// never fall back to its default same-host rule.
		CheckOrigin: func(r *http.Request) bool { return s.originOK(r) == nil },
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			http.Error(w, reason.Error(), status)
		},
	}
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       15 * time.Second, // the handshake only: cleared at upgrade
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       30 * time.Second,
		MaxHeaderBytes:    16 << 10,
		BaseContext:       func(net.Listener) context.Context { return a.ctx },
	}
	return s
}

func (s *wsServer) originOK(r *http.Request) error {
	o := r.Header.Values("Origin")
	if len(o) != 1 || o[0] == "" {
		return errors.New("missing Origin header")
	}
	return s.a.MayAsk(o[0])
}

// MayAsk asks the engine, treating a panic there like a refusal.
func (a *Agent) MayAsk(origin string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("engine panic: %v", r)
		}
	}()
	return a.o.Engine.MayAsk(origin)
}

func (s *wsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := s.a.o.Log.With().Str("remote", r.RemoteAddr).Str("origin", r.Header.Get("Origin")).Logger()
	// DNS rebinding: a hostile name resolving to 127.0.0.1 makes the
	// browser send its own name here, and treat us as same-origin with it.
	if !s.hostOK(r.Host) {
		log.Warn().Str("host", r.Host).Msg("refused: Host header not loopback (DNS rebinding?)")
		http.Error(w, "misdirected request: Host must be 127.0.0.1, localhost or [::1] with the port", http.StatusMisdirectedRequest)
		return
	}
	if r.URL.Path != "/v1" {
		http.NotFound(w, r)
		return
	}
	if err := s.originOK(r); err != nil {
		log.Warn().Err(err).Msg("refused: origin may not ask")
		http.Error(w, "forbidden origin", http.StatusForbidden)
		return
	}
	if n := s.a.wsConns.Add(1); n > int64(s.a.o.MaxConns) {
		s.a.wsConns.Add(-1)
		log.Warn().Int64("conns", n-1).Msg("refused: connection cap reached")
		http.Error(w, "too many connections", http.StatusServiceUnavailable)
		return
	}
	defer s.a.wsConns.Add(-1)
	if !s.a.track() {
		http.Error(w, "agent stopping", http.StatusServiceUnavailable)
		return
	}
	defer s.a.wg.Done()
	c, err := s.up.Upgrade(w, r, nil)
	if err != nil {
		log.Info().Err(err).Msg("upgrade failed")
		return
	}
	log.Debug().Msg("websocket connected")
	// Not r.Context(): after the hijack the server no longer watches
	// the connection; the agent's context is what shutdown cancels.
	s.a.serveWS(s.a.ctx, c, r.Header.Get("Origin"))
	log.Debug().Msg("websocket closed")
}

func (s *wsServer) hostOK(h string) bool {
	for _, ok := range s.hosts {
		if strings.EqualFold(h, ok) {
			return true
		}
	}
	return false
}

// serveWS runs one connection. One goroutine reads; when a request comes
// in, it hands the reading on to a fresh goroutine and answers the request
// itself, so the request runs at once on the thread the network just woke,
// and the new reader only has to be waiting by the next message (a handoff
// to a request goroutine instead cost a thread wake-up on the critical
// path: ~25 µs of a ~150 µs round trip). Requests still run concurrently,
// at most MaxInFlight, and the reading never stops while one is pending, so
// a close is seen at once. Writes are serialized under wmu. This goroutine
// (the http handler's, counted in a.wg by the caller: http.Server does not
// track hijacked connections) pings and closes; it returns when the
// connection has ended and every goroutine of it has too.
func (a *Agent) serveWS(parent context.Context, c *websocket.Conn, origin string) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var wmu sync.Mutex
	write := func(msg []byte) {
		wmu.Lock()
		defer wmu.Unlock()
		_ = c.SetWriteDeadline(time.Now().Add(writeWait))
		if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
			// The reader sees the broken connection and ends it.
			a.o.Log.Debug().Err(err).Msg("websocket write failed")
		}
	}

	c.SetReadLimit(frame.Max) // over it gorilla closes with 1009
	// Any message shows the peer alive. Moving the deadline re-arms a
	// runtime timer, so a busy connection moves it at most once a second:
	// the peer gets between pongWait-1s and pongWait of silence. readSet is
	// the reader's (one at a time, each started by the previous one).
	readSet := time.Now()
	_ = c.SetReadDeadline(readSet.Add(pongWait))
	c.SetPongHandler(func(string) error { return c.SetReadDeadline(time.Now().Add(pongWait)) })
	reqs := newInflight(a.o.MaxInFlight)
	readDone := make(chan struct{}) // closed when the reading ends
	var read func()
	spawn := func() {
		reqs.wg.Add(1)
		go func() {
			defer reqs.wg.Done()
			read()
		}()
	}
	read = func() {
		for {
			typ, msg, err := c.ReadMessage()
			if err != nil {
				close(readDone)
				return
			}
			if now := time.Now(); now.Sub(readSet) >= time.Second {
				readSet = now
				_ = c.SetReadDeadline(now.Add(pongWait))
			}
			if typ != websocket.TextMessage {
				write(wire.ErrorResponse("", "BAD_REQUEST", a.msg("binary")))
				continue
			}
			if !reqs.acquire() {
				write(wire.ErrorResponse(requestID(msg), "BUSY", a.msg("busy")))
				continue
			}
			spawn() // the next reader
			write(a.handle(ctx, origin, msg))
			reqs.release()
			return
		}
	}
	spawn()

	// Ping, and close the connection when its context ends (peer gone, or
	// agent shutdown), which ends the reading; or when the reading ended.
	t := time.NewTicker(pingPeriod)
	defer t.Stop()
	for open := true; open; {
		select {
		case <-t.C:
			if err := c.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				cancel()
			}
		case <-readDone:
			open = false
		case <-ctx.Done():
			if a.ctx.Err() != nil {
				_ = c.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(websocket.CloseGoingAway, "agent stopping"), time.Now().Add(time.Second))
			}
			open = false
		}
	}
	// Closing the connection cancels what it has pending (DESIGN).
	cancel()
	_ = c.Close()
	reqs.wg.Wait()
}

// handle runs one request through the engine. A panic in the engine is a
// bug: it is logged and answered INTERNAL instead of killing the agent.
func (a *Agent) handle(ctx context.Context, origin string, raw []byte) (resp []byte) {
	defer func() {
		if r := recover(); r != nil {
			a.o.Log.Error().Str("origin", origin).Interface("panic", r).Msg("engine panic")
			resp = wire.ErrorResponse(requestID(raw), "INTERNAL", prompt.T(a.o.Lang, "err.INTERNAL"))
		}
	}()
	return a.o.Engine.Handle(ctx, origin, raw)
}
