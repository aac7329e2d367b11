package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/engine"
	"kyso.vn/kyso/internal/frame"
	"kyso.vn/kyso/internal/wire"
	"kyso.vn/kyso/messages"
	"kyso.vn/kyso/protocol"
)

// Relay is the Backend that forwards requests to the running agent over its
// user-only local socket (internal/wire): each request as the page wrote it
// with the origin the host established, the agent's answers as its engine
// wrote them, several requests in flight on the one connection, told apart
// by a tag of the relay's (pages choose their ids and may reuse them). No
// JSON is read or written on the way. Closing it closes the connection,
// which makes the agent cancel what is pending and close its dialogs.
type Relay struct {
	conn io.ReadWriteCloser
	log  zerolog.Logger

	wmu sync.Mutex // one frame at a time on conn

	mu      sync.Mutex
	next    uint64
	pending map[uint64]*pending // tag → where its messages go
	done    chan struct{}       // closed when the connection is gone
	err     error               // why, once done is closed
}

// ErrOtherVersion: the agent that answers is of another Kyso version; the
// host then runs the engine itself.
var ErrOtherVersion = wire.ErrOtherVersion

// NewRelay checks that the agent on conn (from agent.DialLocal) speaks this
// version's local socket, and starts relaying over it. On an error the
// caller closes conn.
func NewRelay(ctx context.Context, conn io.ReadWriteCloser, log zerolog.Logger) (*Relay, error) {
	if err := hello(ctx, conn); err != nil {
		return nil, err
	}
	r := &Relay{conn: conn, log: log, pending: map[uint64]*pending{}, done: make(chan struct{})}
	go r.readLoop()
	return r, nil
}

// hello asks the agent for its framing's version before any request goes
// out: an agent of another version would not understand the requests.
func hello(ctx context.Context, conn io.ReadWriteCloser) error {
	done := make(chan error, 1)
	go func() {
		if err := frame.Write(conn, wire.Append(nil, wire.Message{Kind: wire.Hello})); err != nil {
			done <- err
			return
		}
		msg, err := frame.Read(conn, wire.MaxFrame)
		if err == nil {
			var m wire.Message
			if m, err = wire.Parse(msg); err == nil && m.Kind != wire.Hello {
				err = ErrOtherVersion
			}
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("relay: hello: %w", err)
		}
		return nil
	case <-ctx.Done():
		conn.Close() // ends the goroutine's read
		return fmt.Errorf("relay: hello: %w", ctx.Err())
	}
}

// Close closes the connection to the agent.
func (r *Relay) Close() error { return r.conn.Close() }

// pending is a request relayed and not answered yet.
type pending struct {
	answer   chan []byte // buffered: the first answer is taken
	progress func([]byte)
}

// Answer relays one request and returns the agent's answer as it is; the
// agent's progress messages for it go to progress as they come, before.
func (r *Relay) Answer(ctx context.Context, origin string, req engine.Request, progress func(msg []byte)) []byte {
	r.mu.Lock()
	r.next++
	tag := r.next
	ch := make(chan []byte, 1)
	r.pending[tag] = &pending{answer: ch, progress: progress}
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.pending, tag)
		r.mu.Unlock()
	}()

	// Built in place after the frame's length: a document's request is
	// tens of megabytes, copied once here.
	msg := wire.Append(make([]byte, frame.HeaderLen, frame.HeaderLen+16+len(origin)+len(req.Raw)),
		wire.Message{Kind: wire.Request, Tag: tag, Origin: origin, Body: req.Raw})
	r.wmu.Lock()
	err := frame.WriteReserved(r.conn, msg, wire.MaxRequestFrame)
	r.wmu.Unlock()
	msg = nil
	if errors.Is(err, frame.ErrTooLarge) {
		return errorResponse(req.ID, protocol.BadRequest, messages.HostTooLarge)
	}
	if err != nil {
		r.log.Error().Err(err).Msg("relay: write to agent")
		return errorResponse(req.ID, protocol.Internal, messages.HostAgentLost)
	}

	select {
	case resp := <-ch:
		return withID(resp, req.ID)
	case <-r.done:
		r.log.Error().Err(r.err).Str("id", req.ID).Msg("relay: agent connection lost")
		return errorResponse(req.ID, protocol.Internal, messages.HostAgentLost)
	case <-ctx.Done():
		// The browser went away; closing the connection (the caller's
		// Close) is what cancels the operation in the agent.
		return errorResponse(req.ID, protocol.Internal, messages.HostCancelled)
	}
}

// readLoop hands each answer from the agent to the request it belongs to.
func (r *Relay) readLoop() {
	var err error
	for {
		var msg []byte
		if msg, err = frame.Read(r.conn, wire.MaxFrame); err != nil {
			break
		}
		m, perr := wire.Parse(msg)
		if perr != nil || m.Kind != wire.Answer && m.Kind != wire.Progress {
			r.log.Warn().Err(perr).Msg("relay: not an answer from the agent")
			continue
		}
		r.mu.Lock()
		p, ok := r.pending[m.Tag]
		r.mu.Unlock()
		if !ok {
			r.log.Warn().Uint64("tag", m.Tag).Msg("relay: answer to no pending request")
			continue
		}
		if m.Kind == wire.Progress {
			// Passed on here, in the order the agent sent it: before the
			// answer, which this loop reads next.
			if p.progress != nil {
				p.progress(m.Body)
			}
			continue
		}
		select {
		case p.answer <- m.Body: // buffered: the first answer is taken
		default:
			r.log.Warn().Uint64("tag", m.Tag).Msg("relay: second answer to one request")
		}
	}
	if err == io.EOF {
		err = errors.New("agent closed the connection")
	}
	r.err = fmt.Errorf("relay: read from agent: %w", err)
	close(r.done)
}

// withID puts the page's id into an agent's refusal that has none: the
// agent skips a large request the memory budget cannot hold without
// reading it (BUSY), and cannot know the id unless the request began with
// it; the relay knows it from its tag. Any other answer is as it came.
func withID(resp []byte, id string) []byte {
	if len(resp) > protocol.MaxMessage || id == "" {
		return resp
	}
	var r protocol.Response
	if json.Unmarshal(resp, &r) != nil || r.ID != "" || r.Error == nil {
		return resp
	}
	r.ID = id
	b, err := json.Marshal(r)
	if err != nil {
		return resp
	}
	return b
}
