package agent

import (
	"net"
	"sync"
	"time"
)

// originCounter counts the open WebSocket connections of each Origin, so
// that one origin cannot take every place under the overall cap. Its map
// holds only origins with a connection open (at most MaxConns of them).
type originCounter struct {
	mu  sync.Mutex
	max int
	n   map[string]int
}

func newOriginCounter(max int) *originCounter {
	return &originCounter{max: max, n: map[string]int{}}
}

// acquire takes a place for origin, or reports false when it has max.
func (c *originCounter) acquire(origin string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[origin] >= c.max {
		return false
	}
	c.n[origin]++
	return true
}

func (c *originCounter) release(origin string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[origin]--; c.n[origin] <= 0 {
		delete(c.n, origin)
	}
}

// logLimiter lets one line per key (a refusal's reason and origin) through
// per logEvery, and at most logBurst lines per logEvery in all, so that a
// flood of refused connections, even under ever new made-up origins, writes
// a handful of lines and not one per attempt. It counts what it held back,
// so the next line of that key can say so.
type logLimiter struct {
	mu      sync.Mutex
	keys    map[string]*logKey
	window  time.Time // start of the current logEvery for the overall budget
	written int       // lines let through in that window
}

type logKey struct {
	last    time.Time
	dropped int
}

const (
	logEvery = time.Minute
	logBurst = 30   // lines per logEvery, all keys together
	logKeys  = 1024 // keys remembered; the oldest are forgotten first
)

func newLogLimiter() *logLimiter { return &logLimiter{keys: map[string]*logKey{}} }

// allow reports whether a line for key may be written now, and how many
// were held back for key since its last line.
func (l *logLimiter) allow(key string) (ok bool, dropped int) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.window) >= logEvery {
		l.window, l.written = now, 0
	}
	k := l.keys[key]
	if k == nil {
		if len(l.keys) >= logKeys {
			l.forget(now)
		}
		k = &logKey{}
		l.keys[key] = k
	} else if now.Sub(k.last) < logEvery {
		k.dropped++
		return false, 0
	}
	if l.written >= logBurst {
		k.dropped++
		return false, 0
	}
	l.written++
	dropped, k.last, k.dropped = k.dropped, now, 0
	return true, dropped
}

// forget drops the keys last logged over logEvery ago, or all of them when
// none is that old (the overall budget still bounds the lines).
func (l *logLimiter) forget(now time.Time) {
	for key, k := range l.keys {
		if now.Sub(k.last) >= logEvery {
			delete(l.keys, key)
		}
	}
	if len(l.keys) >= logKeys {
		clear(l.keys)
	}
}

// maxTCPConns bounds the accepted TCP connections of the WebSocket port,
// upgraded or not: with half-open HTTP clients (slowloris) bounded, they
// cannot run the agent out of file descriptors, which the local socket and
// the PKCS#11 modules need too. It leaves room above MaxConns for clients
// still in their handshake or being refused.
func (a *Agent) maxTCPConns() int64 { return 2 * int64(a.o.MaxConns) }

// limitTCP wraps a WebSocket listener so that a connection over
// maxTCPConns is closed as soon as it is accepted.
func (a *Agent) limitTCP(ln net.Listener) net.Listener { return &tcpLimit{Listener: ln, a: a} }

type tcpLimit struct {
	net.Listener
	a *Agent
}

func (l *tcpLimit) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if n := l.a.tcpConns.Add(1); n > l.a.maxTCPConns() {
			l.a.tcpConns.Add(-1)
			c.Close()
			if ok, dropped := l.a.logs.allow("tcp cap"); ok {
				l.a.o.Log.Warn().Int64("open", n-1).Int("alsoRefusedSinceLastLine", dropped).Msg("refused: TCP connection cap reached")
			}
			continue
		}
		return &countedConn{Conn: c, a: l.a}, nil
	}
}

// countedConn gives its place back once, when closed (by net/http, or by
// the WebSocket after the upgrade: the hijacked connection is this one).
type countedConn struct {
	net.Conn
	a    *Agent
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.a.tcpConns.Add(-1) })
	return c.Conn.Close()
}

// truncate keeps a peer-chosen string short enough for a log line.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
