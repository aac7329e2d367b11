package agent

import (
	"net"
	"sync"
	"sync/atomic"
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

// Another local user (on a shared machine) holding thousands of half-sent
// requests must not take every place under maxTCPConns and shut the
// person's own pages out. Reading the socket table costs too much to do for
// every connection of a flood, so once over half of maxTCPConns is taken,
// each new connection's owner is looked up (where the OS tells who owns a
// peer) and another user's is counted apart, in at most maxOtherUserConns
// places (let through to get their 403), and closed beyond. Other users
// hold at most half the places, then; this user keeps the rest.
const maxOtherUserConns = 16

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
		n := l.a.tcpConns.Add(1)
		if n > l.a.maxTCPConns() {
			l.a.tcpConns.Add(-1)
			c.Close()
			if ok, dropped := l.a.logs.allow("tcp cap"); ok {
				l.a.o.Log.Warn().Int64("open", n-1).Int("alsoRefusedSinceLastLine", dropped).Msg("refused: TCP connection cap reached")
			}
			continue
		}
		// Over half the places taken: look the owner up at once.
		lookup := n > l.a.maxTCPConns()/2
		return &countedConn{Conn: c, a: l.a, pool: &l.a.tcpConns, lookup: lookup}, nil
	}
}

// countedConn holds a place in a count (tcpConns, or otherConns once its
// peer is known to be another user) and gives it back once, when closed (by
// net/http, or by the WebSocket after the upgrade: the hijacked connection
// is this one). Its owner is looked up at the handshake, or with lookup at
// its first Read, which net/http makes in the connection's own goroutine at
// once, before any byte came: the accept loop stays cheap and a silent
// client is known too.
type countedConn struct {
	net.Conn
	a      *Agent
	lookup bool // look the owner up at the first Read
	check  sync.Once
	peer   error // after check: nil when the peer is this user (or unknown)

	mu   sync.Mutex
	pool *atomic.Int64 // the count holding this connection's place; nil once given back
}

func (c *countedConn) Read(p []byte) (int, error) {
	if c.lookup {
		c.check.Do(c.checkPeer)
	}
	return c.Conn.Read(p)
}

// peerErr is the verdict of the owner check (made now if no Read made it).
func (c *countedConn) peerErr() error {
	c.check.Do(c.checkPeer)
	return c.peer
}

// checkPeer moves another user's connection out of tcpConns into
// otherConns, or closes it when that is full.
func (c *countedConn) checkPeer() {
	c.peer = connPeerIsUs(c.Conn.LocalAddr(), c.Conn.RemoteAddr())
	if c.peer == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pool == nil {
		return // closed already
	}
	c.pool.Add(-1)
	c.pool = &c.a.otherConns
	if n := c.pool.Add(1); n > maxOtherUserConns {
		c.pool.Add(-1)
		c.pool = nil
		c.Conn.Close() // the Read that follows fails
		if ok, dropped := c.a.logs.allow("other user cap"); ok {
			c.a.o.Log.Warn().Err(c.peer).Int("alsoRefusedSinceLastLine", dropped).Msg("refused: connections from other users")
		}
	}
}

func (c *countedConn) Close() error {
	c.mu.Lock()
	if c.pool != nil {
		c.pool.Add(-1)
		c.pool = nil
	}
	c.mu.Unlock()
	return c.Conn.Close()
}
