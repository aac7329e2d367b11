//go:build linux || darwin

package agent

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"kyso.vn/kyso/internal/rundir"
)

// ListenLocal listens on rundir.SocketPath(): parent dir 0700, socket 0600, and
// every accepted connection whose peer is not this user is closed at once.
// A socket file left by a crashed agent is removed, but only when nothing
// answers on it; when an agent answers, ListenLocal fails with
// ErrAlreadyRunning. Closing the listener removes the socket file.
func ListenLocal() (net.Listener, error) { return ListenLocalAt(rundir.SocketPath()) }

// ListenLocalAt is ListenLocal on a given path (tests).
func ListenLocalAt(path string) (net.Listener, error) {
	if err := rundir.Private(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	if st, err := os.Lstat(path); err == nil {
		if st.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("agent: %s exists and is not a socket; remove it", path)
		}
		d := net.Dialer{Timeout: time.Second}
		if c, err := d.Dial("unix", path); err == nil {
			c.Close()
			return nil, fmt.Errorf("%w (socket %s)", ErrAlreadyRunning, path)
		}
		// Nothing answers: a crashed agent's leftover.
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("agent: remove stale socket %s: %w", path, err)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("agent: listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("agent: chmod %s: %w", path, err)
	}
	return &peerListener{Listener: ln, uid: os.Getuid()}, nil
}

// DialLocal connects to the running agent's local socket.
func DialLocal(ctx context.Context) (net.Conn, error) { return DialLocalAt(ctx, rundir.SocketPath()) }

// DialLocalAt is DialLocal on a given path (tests). It refuses a socket
// whose listener is another user: one who made the socket first (in the
// /tmp fallback) would otherwise get every origin and request the host
// relays, and answer them as it likes.
func DialLocalAt(ctx context.Context, path string) (net.Conn, error) {
	return dialLocalAs(ctx, path, os.Getuid())
}

func dialLocalAs(ctx context.Context, path string, uid int) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("agent: dial %s: %w", path, err)
	}
	peer, err := peerUID(c)
	if err != nil || peer != uid {
		c.Close()
		return nil, fmt.Errorf("agent: %s is served by another user (uid %d), not this one: refused (%v)", path, peer, err)
	}
	return c, nil
}

// peerListener refuses connections from other users. The socket's mode
// already does, but root-owned or misconfigured dirs happen; the kernel's
// word on the peer is the real check.
type peerListener struct {
	net.Listener
	uid     int
	refused func(uid int, err error) // set by the agent before Accept, to log
}

func (l *peerListener) onRefused(f func(uid int, err error)) { l.refused = f }

func (l *peerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		uid, err := peerUID(c)
		if err == nil && uid == l.uid {
			return c, nil
		}
		c.Close()
		// Not an accept error: keep serving our own user.
		if l.refused != nil {
			l.refused(uid, err)
		}
	}
}

// peerUID asks the kernel who is at the other end of a Unix socket.
func peerUID(c net.Conn) (int, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return -1, fmt.Errorf("agent: not a unix socket: %T", c)
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return -1, err
	}
	uid := -1
	var cerr error
	if err := rc.Control(func(fd uintptr) { uid, cerr = fdPeerUID(int(fd)) }); err != nil {
		return -1, err
	}
	return uid, cerr
}
