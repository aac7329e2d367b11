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
	// send writes m as one frame, built in place after the frame's length
	// (an answer may be a signed document of tens of megabytes).
	send := func(m wire.Message) {
		buf := wire.Append(make([]byte, frame.HeaderLen, frame.HeaderLen+16+len(m.Body)), m)
		wmu.Lock()
		defer wmu.Unlock()
		_ = c.SetWriteDeadline(time.Now().Add(writeWait))
		if err := frame.WriteReserved(c, buf, wire.MaxFrame); err != nil {
			a.o.Log.Debug().Err(err).Msg("local socket write failed")
		}
	}
	write := func(msg []byte) { // a JSON frame, to a host of another version
		wmu.Lock()
		defer wmu.Unlock()
		_ = c.SetWriteDeadline(time.Now().Add(writeWait))
		if err := frame.WriteMax(c, msg, wire.MaxFrame); err != nil {
			a.o.Log.Debug().Err(err).Msg("local socket write failed")
		}
	}
	answer := func(tag uint64, body []byte) { send(wire.Message{Kind: wire.Answer, Tag: tag, Body: body}) }
	// A request's progress messages go to the host tagged like its answer,
	// which comes after them.
	progress := func(tag uint64) func([]byte) {
		return func(msg []byte) { send(wire.Message{Kind: wire.Progress, Tag: tag, Body: msg}) }
	}
	reqs := newInflight(a.o.MaxInFlight)
	readDone := make(chan struct{}) // closed when the reading ends
	reqs.wg.Add(1)
	go func() {
		defer reqs.wg.Done()
		defer close(readDone)
		for {
			msg, charged, err := a.readLocal(c)
			if errors.Is(err, errOverBudget) {
				// Skipped unread: answered by its tag (and the page's id
				// when the request began with it; else the host puts it).
				m, _ := wire.Parse(msg)
				a.logOverBudget(m.Origin)
				answer(m.Tag, protocol.ErrorResponse(prefixID(m.Body), protocol.Busy, a.msg(messages.AgentMemory)))
				continue
			}
			if err != nil {
				if !errors.Is(err, io.EOF) && ctx.Err() == nil {
					a.o.Log.Debug().Err(err).Msg("local socket read failed")
				}
				// Too large: the body was not read, the stream cannot be
				// resynced; the host tells the page itself.
				return
			}
			m, err := wire.Parse(msg)
			if m.Kind != wire.Request || err != nil {
				// Only a request is held past this loop's turn.
				a.budget.give(charged)
				charged = 0
			}
			switch {
			case errors.Is(err, wire.ErrOtherVersion):
				// A host of another version: answered in the frames it
				// reads (a JSON frame is a response to its only request).
				if ok, _ := a.logs.allow("local other version"); ok {
					a.o.Log.Warn().Msg("local socket: a kyso host of another version connected")
				}
				if m.Kind == wire.Hello {
					send(wire.Message{Kind: wire.Hello})
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
				send(wire.Message{Kind: wire.Hello})
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
				a.budget.give(charged)
				answer(m.Tag, protocol.ErrorResponse(requestID(m.Body), protocol.Busy, a.msg(messages.AgentBusy)))
				continue
			}
			reqs.run(func() {
				defer a.budget.give(charged) // once the answer is written
				answer(m.Tag, a.o.Engine.Handle(ctx, m.Origin, m.Body, progress(m.Tag)))
			})
		}
	}()
	<-readDone
	// Closing the connection cancels what it has pending (DESIGN).
	cancel()
	reqs.wg.Wait()
	<-closed
}

// readLocal reads one frame of the local socket. A frame larger than
// protocol.MaxMessage (a document's request) is charged to the budget
// from its length, before it is allocated; when the budget cannot hold it,
// only its first bytes are read (returned with errOverBudget, for its tag
// and id) and the rest is skipped, so the stream stays in step and the
// agent holds nothing of it. charged is given back by the caller.
func (a *Agent) readLocal(c net.Conn) (msg []byte, charged int64, err error) {
	n, err := frame.ReadLen(c, wire.MaxRequestFrame)
	if err != nil {
		return nil, 0, err
	}
	if n <= protocol.MaxMessage {
		msg, err = frame.ReadBody(c, n)
		return msg, 0, err
	}
	charged = int64(n) * chargeFactor
	if !a.budget.take(charged) {
		head, err := frame.ReadBody(c, min(n, localHeadBytes))
		if err == nil {
			err = frame.Skip(c, n-len(head))
		}
		if err != nil {
			return nil, 0, err
		}
		return head, 0, errOverBudget
	}
	if msg, err = frame.ReadBody(c, n); err != nil {
		a.budget.give(charged)
		return nil, 0, err
	}
	return msg, charged, nil
}

// localHeadBytes of a skipped frame are read: the wire header, the origin
// (a browser's origin is far shorter) and the start of the request.
const localHeadBytes = 64 << 10
