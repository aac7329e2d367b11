package agent

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"kyso.vn/kyso/internal/frame"
	"kyso.vn/kyso/internal/wire"
	"kyso.vn/kyso/messages"
	"kyso.vn/kyso/protocol"
)

// ErrAlreadyRunning is returned by ListenLocal when another agent answers on
// the local socket.
var ErrAlreadyRunning = errors.New("agent: another kyso agent is already running for this user")

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

// serveLocalConn runs one local connection: frames of internal/wire in,
// requests run concurrently (inflight.run), frames out whole under a
// mutex. Ending the connection cancels its pending operations.
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
		if err := frame.WriteMax(c, msg, wire.MaxFrame); err != nil {
			a.o.Log.Debug().Err(err).Msg("local socket write failed")
		}
	}
	answer := func(tag uint64, body []byte) {
		write(wire.Append(make([]byte, 0, 16+len(body)), wire.Message{Kind: wire.Answer, Tag: tag, Body: body}))
	}
	// A request's progress messages go to the host tagged like its answer,
	// which comes after them.
	progress := func(tag uint64) func([]byte) {
		return func(msg []byte) {
			write(wire.Append(make([]byte, 0, 16+len(msg)), wire.Message{Kind: wire.Progress, Tag: tag, Body: msg}))
		}
	}
	reqs := newInflight(a.o.MaxInFlight)
	readDone := make(chan struct{}) // closed when the reading ends
	reqs.wg.Add(1)
	go func() {
		defer reqs.wg.Done()
		defer close(readDone)
		for {
			msg, err := frame.Read(c, wire.MaxFrame)
			if err != nil {
				if !errors.Is(err, io.EOF) && ctx.Err() == nil {
					a.o.Log.Debug().Err(err).Msg("local socket read failed")
				}
				// Too large: the body was not read, the stream cannot be
				// resynced; the host tells the page itself.
				return
			}
			m, err := wire.Parse(msg)
			switch {
			case errors.Is(err, wire.ErrOtherVersion):
				// A host of another version: answered in the frames it
				// reads (a JSON frame is a response to its only request).
				if ok, _ := a.logs.allow("local other version"); ok {
					a.o.Log.Warn().Msg("local socket: a kyso host of another version connected")
				}
				if m.Kind == wire.Hello {
					write(wire.Append(nil, wire.Message{Kind: wire.Hello}))
				} else {
					write(protocol.ErrorResponse("", protocol.BadRequest, a.msg(messages.AgentOtherVersion)))
				}
				continue
			case err != nil || m.Kind == wire.Answer || m.Kind == wire.Progress:
				if ok, dropped := a.logs.allow("local broken"); ok {
					a.o.Log.Warn().Err(err).Int("alsoRefusedSinceLastLine", dropped).Msg("local socket: a broken message")
				}
				answer(m.Tag, protocol.ErrorResponse("", protocol.BadRequest, a.msg(messages.AgentEnvelope)))
				continue
			}
			switch m.Kind {
			case wire.Hello:
				write(wire.Append(nil, wire.Message{Kind: wire.Hello}))
				continue
			case wire.Stats:
				// Answered here, in order: a stats frame costs a GC, so one
				// connection has at most one running.
				b, _ := json.Marshal(a.stats())
				answer(m.Tag, b)
				continue
			case wire.Quit:
				// kyso uninstall (agent.Quit): answered, then the whole
				// agent shuts down, closing this connection too.
				answer(m.Tag, nil)
				a.o.Log.Info().Msg("asked to quit on the local socket (kyso uninstall)")
				a.cancel()
				continue
			}
			if !reqs.acquire() {
				answer(m.Tag, protocol.ErrorResponse(requestID(m.Body), protocol.Busy, a.msg(messages.AgentBusy)))
				continue
			}
			reqs.run(func() { answer(m.Tag, a.o.Engine.Handle(ctx, m.Origin, m.Body, progress(m.Tag))) })
		}
	}()
	<-readDone
	// Closing the connection cancels what it has pending (DESIGN).
	cancel()
	reqs.wg.Wait()
	<-closed
}
