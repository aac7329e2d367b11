package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"kyso.vn/kyso/internal/frame"
	"kyso.vn/kyso/internal/wire"
)

// ErrAlreadyRunning is returned by ListenLocal when another agent answers on
// the local socket.
var ErrAlreadyRunning = errors.New("agent: another kyso agent is already running for this user")

// Envelope is what a local client (the native-messaging host) sends: the
// origin it established and the page's protocol v1 request. The agent
// answers with the plain v1 response.
type Envelope struct {
	Origin  string          `json:"origin"`
	Request json.RawMessage `json:"request"`
}

// serveLocal accepts local-socket connections until the listener closes.
// The listener from ListenLocal has already refused other users.
func (a *Agent) serveLocal(ln net.Listener) {
	if pl, ok := ln.(interface{ onRefused(func(int, error)) }); ok {
		pl.onRefused(func(uid int, err error) {
			a.o.Log.Warn().Int("peerUid", uid).AnErr("reason", err).Msg("local socket: refused a connection from another user")
		})
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			if a.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Transient (out of fds…): back off instead of spinning.
			a.o.Log.Warn().Err(err).Msg("local socket accept failed")
			select {
			case <-time.After(100 * time.Millisecond):
			case <-a.ctx.Done():
				return
			}
			continue
		}
		if n := a.localConns.Add(1); n > int64(a.o.MaxConns) {
			a.localConns.Add(-1)
			a.o.Log.Warn().Msg("local socket: connection cap reached")
			c.Close()
			continue
		}
		if !a.track() {
			a.localConns.Add(-1)
			c.Close()
			return
		}
		go func() {
			defer a.wg.Done()
			defer a.localConns.Add(-1)
			a.serveLocalConn(c)
		}()
	}
}

// serveLocalConn runs one local connection: frames in, requests run
// concurrently (inflight.readOn), frames out whole under a mutex. Ending the
// connection cancels its pending operations.
func (a *Agent) serveLocalConn(c net.Conn) {
	ctx, cancel := context.WithCancel(a.ctx)
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		<-ctx.Done()
		c.Close() // unblocks the read loop at shutdown
	}()
	var wmu sync.Mutex
	write := func(msg []byte) {
		wmu.Lock()
		defer wmu.Unlock()
		_ = c.SetWriteDeadline(time.Now().Add(writeWait))
		if err := frame.Write(c, msg); err != nil {
			a.o.Log.Debug().Err(err).Msg("local socket write failed")
		}
	}
	reqs := newInflight(a.o.MaxInFlight)
	readDone := make(chan struct{}) // closed when the reading ends
	var read func()
	read = func() {
		for {
			msg, err := frame.Read(c, frame.Max)
			if err != nil {
				if errors.Is(err, frame.ErrTooLarge) {
					// The body was not read: the stream cannot be resynced.
					write(wire.ErrorResponse("", "BAD_REQUEST", a.msg("tooLarge")))
				} else if !errors.Is(err, io.EOF) && ctx.Err() == nil {
					a.o.Log.Debug().Err(err).Msg("local socket read failed")
				}
				close(readDone)
				return
			}
			var env struct {
				Envelope
				Op string `json:"op"` // only agentStats and agentQuit: the agent's own questions
			}
			err = json.Unmarshal(msg, &env)
			if err == nil && env.Op == statsOp && env.Origin == "" && env.Request == nil {
				// Answered here, in order: a stats frame costs a GC, so one
				// connection has at most one running.
				b, _ := json.Marshal(a.stats())
				write(b)
				continue
			}
			if err == nil && env.Op == quitOp && env.Origin == "" && env.Request == nil {
				write([]byte(quitAck))
				a.o.Log.Info().Msg("asked to quit on the local socket (kyso uninstall)")
				a.cancel()
				continue
			}
			// The request must at least be an object; the engine checks the rest.
			if err != nil || !bytes.HasPrefix(bytes.TrimSpace(env.Request), []byte("{")) {
				write(wire.ErrorResponse("", "BAD_REQUEST", a.msg("envelope")))
				continue
			}
			if !reqs.acquire() {
				write(wire.ErrorResponse(requestID(env.Request), "BUSY", a.msg("busy")))
				continue
			}
			origin, request := env.Origin, env.Request
			if reqs.readOn(read, func() { write(a.handle(ctx, origin, request)) }) {
				continue
			}
			return
		}
	}
	reqs.spawn(read)
	<-readDone
	// Closing the connection cancels what it has pending (DESIGN).
	cancel()
	reqs.wg.Wait()
	<-closed
}
