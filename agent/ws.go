package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"kyso.vn/kyso/internal/logging"
	"kyso.vn/kyso/messages"
	"kyso.vn/kyso/protocol"
)

var errServerClosed = http.ErrServerClosed

// WebSocket timing. Browsers answer pings by themselves (not the page's
// script), so a page that waits two minutes for the user's PIN, or keeps an
// idle connection for hours, keeps it: each pong moves the read deadline.
// A client that stops in the middle of a frame cannot send a pong (it would
// be read as the frame's payload), and pongs between the fragments of an
// unfinished message do not count, so a half-sent message is cut at most
// pongWait after the last sign of life. Idle, a connection costs one timer
// wake-up per pingPeriod.
const (
	pingPeriod = 30 * time.Second
	pongWait   = 45 * time.Second // pingPeriod plus 15 s for the pong
	writeWait  = 10 * time.Second
)

// HTTP timeouts of the handshake (cleared at the upgrade). A page's
// handshake is one small request sent at once; these only bound clients
// that send it slowly or never finish it (slowloris).
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 15 * time.Second
	idleTimeout       = 30 * time.Second
	maxHeaderBytes    = 16 << 10
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
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout, // the handshake only: cleared at upgrade
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		BaseContext:       func(net.Listener) context.Context { return a.ctx },
		// The handshake reuses the connection's owner lookup (countedConn).
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, c)
		},
		// net/http logs each TLS/protocol error of a client on its own
		// logger; a hostile client could fill the log with them.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	return s
}

// originOK checks the Origin header: exactly one, accepted by the engine.
func (s *wsServer) originOK(r *http.Request) error {
	o, err := oneOrigin(r)
	if err != nil {
		return err
	}
	return s.a.o.Engine.MayAsk(o)
}

// oneOrigin returns the request's one Origin header, in the form browsers
// send it (the ASCII serialization of an origin, HTML §7.1): lowercase
// scheme and host, IDNs in punycode, no default port. Any other spelling
// (HTTPS://DICHVUCONG.GOV.VN, raw Unicode, :443) comes from a client that
// is not a browser and could as well send the right spelling, so
// refusing it costs no page anything, and it keeps one spelling per
// origin: the per-origin cap and the logs cannot be split across
// spellings. The engine then decides whether that origin may ask.
func oneOrigin(r *http.Request) (string, error) {
	o := r.Header.Values("Origin")
	if len(o) != 1 || o[0] == "" {
		return "", errors.New("missing Origin header")
	}
	for i := 0; i < len(o[0]); i++ {
		if c := o[0][i]; c <= ' ' || c >= 0x7f || c >= 'A' && c <= 'Z' {
			return "", errors.New("origin header not as browsers send it (uppercase, non-ASCII or control characters)")
		}
	}
	if strings.HasPrefix(o[0], "https://") && strings.HasSuffix(o[0], ":443") ||
		strings.HasPrefix(o[0], "http://") && strings.HasSuffix(o[0], ":80") {
		return "", errors.New("origin header not as browsers send it (default port written out)")
	}
	return o[0], nil
}

func (s *wsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a := s.a
	origin := r.Header.Get("Origin")
	// refuse answers and closes the HTTP connection, so a refused client
	// holds nothing; the warning is logged at most once a minute per
	// reason and origin (or Host), so a flood cannot fill the log.
	refuse := func(status int, body, reason, key string, err error) {
		if ok, dropped := a.logs.allow(reason + "\x00" + key); ok {
			ev := a.o.Log.Warn().Str("remote", r.RemoteAddr).Str("origin", logging.Truncate(origin, 200)).Int("status", status)
			if err != nil {
				ev = ev.Err(err)
			}
			if dropped > 0 {
				ev = ev.Int("alsoRefusedSinceLastLine", dropped)
			}
			ev.Msg("refused: " + reason)
		}
		w.Header().Set("Connection", "close")
		http.Error(w, body, status)
	}
	// DNS rebinding: a hostile name resolving to 127.0.0.1 makes the
	// browser send its own name here, and treat us as same-origin with it.
	if !s.hostOK(r.Host) {
		refuse(http.StatusMisdirectedRequest, "misdirected request: Host must be 127.0.0.1, localhost or [::1] with the port",
			"Host header not loopback (DNS rebinding?)", logging.Truncate(r.Host, 200), nil)
		return
	}
	if r.URL.Path != "/v1" {
		w.Header().Set("Connection", "close")
		http.NotFound(w, r)
		return
	}
	if _, err := oneOrigin(r); err != nil {
		refuse(http.StatusForbidden, "forbidden origin", "origin may not ask", logging.Truncate(origin, 200), err)
		return
	}
	// The caps come before the engine's origin check and the upgrade, so
	// a flood costs two atomic adds and a map lookup per attempt.
	if n := a.wsConns.Add(1); n > int64(a.o.MaxConns) {
		a.wsConns.Add(-1)
		refuse(http.StatusServiceUnavailable, "too many connections", "connection cap reached", "", nil)
		return
	}
	defer a.wsConns.Add(-1)
	if !a.perOrigin.acquire(origin) {
		refuse(http.StatusTooManyRequests, "too many connections from this origin", "per-origin connection cap reached", origin, nil)
		return
	}
	defer a.perOrigin.release(origin)
	// Another user on this machine reaches the loopback port as easily as
	// a page, and writes any Origin it likes: only the kernel knows whose
	// socket is calling. After the caps: the lookup reads the socket table.
	if err := peerIsUs(r); err != nil {
		refuse(http.StatusForbidden, "forbidden", "connection from another user", "", err)
		return
	}
	if err := s.originOK(r); err != nil {
		refuse(http.StatusForbidden, "forbidden origin", "origin may not ask", origin, err)
		return
	}
	// Origins not yet allowed (with userApproval on, any https page) share
	// half the cap, so that pages under endless made-up names cannot shut
	// out the portals the user or the admin allowed.
	if !a.o.Engine.Allowed(origin) {
		if n := a.unlisted.Add(1); n > int64(a.o.MaxConns/2) {
			a.unlisted.Add(-1)
			refuse(http.StatusServiceUnavailable, "too many connections", "cap for origins not yet allowed reached", "", nil)
			return
		}
		defer a.unlisted.Add(-1)
	}
	if !a.track() {
		http.Error(w, "agent stopping", http.StatusServiceUnavailable)
		return
	}
	defer a.wg.Done()
	clog := a.o.Log.With().Str("remote", r.RemoteAddr).Str("origin", origin).Logger()
	c, err := s.up.Upgrade(w, r, nil)
	if err != nil {
		clog.Debug().Err(err).Msg("upgrade failed")
		return
	}
	clog.Debug().Msg("websocket connected")
	// Not r.Context(): after the hijack the server no longer watches
	// the connection; the agent's context is what shutdown cancels.
	a.serveWS(a.ctx, c, origin)
	clog.Debug().Msg("websocket closed")
}

func (s *wsServer) hostOK(h string) bool {
	for _, ok := range s.hosts {
		if strings.EqualFold(h, ok) {
			return true
		}
	}
	return false
}

// serveWS runs one connection. One goroutine reads, and each request runs
// in a goroutine of its own: requests run concurrently, at most
// MaxInFlight, and the reading never stops while one is pending, so a close
// is seen at once. Writes are serialized under wmu. This goroutine
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
			// A peer that does not read its answers (or is gone) is
			// ended: gorilla fails every later write anyway.
			a.o.Log.Debug().Err(err).Msg("websocket write failed")
			cancel()
		}
	}

	// Over the document limit gorilla closes with 1009; a smaller message
	// over its op's limit is the engine's BAD_REQUEST (protocol.MaxRequest).
	c.SetReadLimit(protocol.MaxDocumentMessage)
	// A message or a pong shows the peer alive and moves the read
	// deadline. Moving it re-arms a runtime timer, so a busy connection
	// moves it at most once a second: the peer gets between pongWait-1s and
	// pongWait of silence. readSet and inMessage are the reading
	// goroutine's (the pong handler runs inside its reads).
	readSet := time.Now()
	inMessage := false
	_ = c.SetReadDeadline(readSet.Add(a.o.pongWait))
	alive := func() {
		if now := time.Now(); now.Sub(readSet) >= time.Second {
			readSet = now
			_ = c.SetReadDeadline(now.Add(a.o.pongWait))
		}
	}
	c.SetPongHandler(func(string) error {
		// Pongs between the fragments of a message do not count: a
		// message, once begun, must end within pongWait.
		if !inMessage {
			alive()
		}
		return nil
	})
	reqs := newInflight(a.o.MaxInFlight)
	readDone := make(chan struct{}) // closed when the reading ends
	reqs.wg.Add(1)
	go func() {
		defer reqs.wg.Done()
		defer close(readDone)
		for {
			typ, r, err := c.NextReader()
			if err != nil {
				return
			}
			inMessage = true
			msg, charged, err := a.budget.readMessage(r)
			inMessage = false
			if errors.Is(err, errOverBudget) {
				// Read and dropped: the stream is in step, the agent
				// holds nothing of it. The id, when the message began
				// with it (kyso.js writes it first), is in what was kept.
				alive()
				a.logOverBudget(origin)
				write(protocol.ErrorResponse(prefixID(msg), protocol.Busy, a.msg(messages.AgentMemory)))
				continue
			}
			if err != nil {
				return
			}
			alive()
			if typ != websocket.TextMessage {
				a.budget.give(charged)
				write(protocol.ErrorResponse("", protocol.BadRequest, a.msg(messages.AgentBinary)))
				continue
			}
			if !reqs.acquire() {
				a.budget.give(charged)
				write(protocol.ErrorResponse(requestID(msg), protocol.Busy, a.msg(messages.AgentBusy)))
				continue
			}
			reqs.run(func() {
				// Given back once the answer is written: until then the
				// request, its document and its answer are held.
				defer a.budget.give(charged)
				// The engine lets go of the message once it has read
				// the document from it: keep no reference here.
				m := msg
				msg = nil
				write(a.o.Engine.Handle(ctx, origin, m, write))
			})
		}
	}()

	// Ping, and close the connection when its context ends (peer gone, or
	// agent shutdown), which ends the reading; or when the reading ended.
	t := time.NewTicker(a.o.pingPeriod)
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
