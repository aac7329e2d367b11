// Package agent is the front-end of `kyso serve`: it serves protocol v1 on a
// loopback WebSocket (ws://127.0.0.1:<port>/v1 and [::1]) and on a user-only
// local socket (Unix socket / Windows named pipe) that `kyso host` relays to.
// It only moves bytes and establishes the origin; the engine does the rest.
package agent

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/messages"
	"kyso.vn/kyso/protocol"
)

// Engine is what the agent needs of *engine.Engine. It is an interface so
// that the transport can be tested alone; the real engine satisfies it. Its
// methods do not panic (the engine recovers its own).
type Engine interface {
	// Handle answers one raw request of origin; ctx ends when the
	// connection closes. progress gets the request's progress messages
	// (whole protocol messages, a few per second at most) while a long
	// operation signs, all before Handle returns.
	Handle(ctx context.Context, origin string, raw []byte, progress func(msg []byte)) []byte
	// MayAsk reports (nil) whether origin may connect at all.
	MayAsk(origin string) error
	// Allowed reports whether origin is allowed now, not only approvable:
	// origins not allowed yet share half the connection cap.
	Allowed(origin string) bool
}

// Limits of the front-ends. A page has no reason to come near them; they
// bound what a hostile local process or page can make the agent hold.
//
// DefaultMaxConnsPerOrigin: a page needs one WebSocket, a few when several
// tabs of the portal are open; 32 leaves room for a civil servant with many
// tabs of the same e-office app while one origin (a hostile page, or an
// allowed page gone wrong) can take at most 32 of the 1000, so every other
// origin's pages are still served.
const (
	DefaultMaxConns          = 1000 // open connections (WebSocket and local socket each)
	DefaultMaxConnsPerOrigin = 32   // open WebSocket connections of one Origin
	DefaultMaxInFlight       = 16   // requests pending on one connection
)

// Options configures an Agent.
type Options struct {
	Engine Engine
	Log    zerolog.Logger
	// Lang picks the language of the agent's own error messages ("vi" or
	// "en"; "" detects the locale, as the engine does); the engine
	// localizes its own.
	Lang              string
	MaxConns          int // 0: DefaultMaxConns
	MaxConnsPerOrigin int // 0: DefaultMaxConnsPerOrigin
	MaxInFlight       int // 0: DefaultMaxInFlight
	// MemoryBudget bounds the large requests in flight, agent-wide (see
	// budget.go); 0: DefaultMemoryBudget.
	MemoryBudget int64

	// WebSocket keepalive (0: pingPeriod, pongWait); shorter in tests.
	pingPeriod, pongWait time.Duration
}

// Agent serves the engine on its transports. Create it with New, bind with
// ListenWS and ListenLocal, then Run.
type Agent struct {
	o Options

	// ctx is cancelled at shutdown; every connection's context derives
	// from it, so shutdown cancels every pending operation.
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup // every goroutine the agent starts
	mu      sync.Mutex
	closing bool // set before wg.Wait: no new connection may be tracked

	wsConns    atomic.Int64 // WebSocket handshakes and connections being served
	localConns atomic.Int64
	tcpConns   atomic.Int64 // accepted TCP connections, upgraded or not
	otherConns atomic.Int64 // of them, those another local user holds (not in tcpConns)
	unlisted   atomic.Int64 // WebSocket connections of origins not yet allowed (≤ MaxConns/2)
	perOrigin  *originCounter
	logs       *logLimiter
	budget     *budget // large requests in flight, on every transport
}

// New returns an Agent.
func New(o Options) *Agent {
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.MaxConnsPerOrigin <= 0 {
		o.MaxConnsPerOrigin = DefaultMaxConnsPerOrigin
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	if o.MemoryBudget <= 0 {
		o.MemoryBudget = DefaultMemoryBudget
	}
	if o.pingPeriod <= 0 {
		o.pingPeriod = pingPeriod
	}
	if o.pongWait <= 0 {
		o.pongWait = pongWait
	}
	if o.Lang == "" {
		o.Lang = messages.Lang()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Agent{o: o, ctx: ctx, cancel: cancel, perOrigin: newOriginCounter(o.MaxConnsPerOrigin), logs: newLogLimiter(),
		budget: &budget{max: o.MemoryBudget}}
}

// Listeners are the bound endpoints Run serves.
type Listeners struct {
	WS    []net.Listener // loopback TCP listeners, all on Port
	Port  int            // the WebSocket port, for the Host header check
	Local net.Listener   // the local socket; may be nil
}

// Run serves until ctx ends, then shuts down gracefully: it stops
// accepting, cancels every pending operation (which closes its dialog),
// closes every connection and the listeners (removing the socket file), and
// returns once every goroutine it started has ended.
func (a *Agent) Run(ctx context.Context, l Listeners) error {
	if len(l.WS) == 0 && l.Local == nil {
		return errors.New("agent: nothing to serve")
	}
	var srvs []*wsServer
	for _, ln := range l.WS {
		s := a.newWSServer(l.Port)
		srvs = append(srvs, s)
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			if err := s.http.Serve(a.limitTCP(ln)); err != nil && !errors.Is(err, errServerClosed) {
				a.o.Log.Error().Err(err).Str("addr", ln.Addr().String()).Msg("websocket listener failed")
			}
		}()
		a.o.Log.Info().Str("addr", ln.Addr().String()).Msg("serving WebSocket")
	}
	if l.Local != nil {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			a.serveLocal(l.Local)
		}()
		a.o.Log.Info().Str("addr", l.Local.Addr().String()).Msg("serving local socket")
	}

	select {
	case <-ctx.Done():
	case <-a.ctx.Done():
	}
	a.o.Log.Info().Msg("shutting down")
	// Cancel first: each connection sees its context end, cancels its
	// operations and closes itself.
	a.cancel()
	a.mu.Lock()
	a.closing = true
	a.mu.Unlock()
	for _, s := range srvs {
		sctx, done := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.http.Shutdown(sctx) // closes listeners and idle HTTP conns
		done()
	}
	if l.Local != nil {
		_ = l.Local.Close()
	}
	a.wg.Wait()
	a.o.Log.Info().Msg("stopped")
	return nil
}

// track counts a connection's goroutine in wg, unless shutdown has begun
// (WaitGroup forbids Add racing with Wait from zero).
func (a *Agent) track() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closing {
		return false
	}
	a.wg.Add(1)
	return true
}

// Stop makes Run return (like cancelling its context).
func (a *Agent) Stop() { a.cancel() }

// requestID is the page's id of a request the agent answers itself, ""
// when it has none (protocol.RequestID).
func requestID(raw []byte) string {
	id, _ := protocol.RequestID(raw)
	return id
}

// msg is the message of one of the agent's own errors, in a.o.Lang.
func (a *Agent) msg(m messages.Text) string { return m.In(a.o.Lang) }

// inflight bounds the requests pending on one connection; the goroutines
// that run them are tracked so the connection can wait for them.
type inflight struct {
	sem chan struct{}
	wg  sync.WaitGroup
}

func newInflight(n int) *inflight { return &inflight{sem: make(chan struct{}, n)} }

// acquire takes a place for one request, or reports false when the cap is
// reached.
func (f *inflight) acquire() bool {
	select {
	case f.sem <- struct{}{}:
		return true
	default:
		return false
	}
}

// run runs one request (its place already acquired) in a goroutine of its
// own, so that the connection's reading goes on while it waits on a person
// or a token, and gives the place back when it is done.
func (f *inflight) run(req func()) {
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		defer func() { <-f.sem }()
		req()
	}()
}
