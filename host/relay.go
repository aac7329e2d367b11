package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/internal/frame"
	"kyso.vn/kyso/messages"
	"kyso.vn/kyso/protocol"
)

// Relay is the Backend that forwards requests to the running agent over its
// user-only local socket: frames of {"origin", "request"} one way, plain
// protocol v1 responses the other, several requests in flight on the one
// connection. Closing it closes the connection, which makes the agent cancel
// what is pending and close its dialogs.
type Relay struct {
	conn io.ReadWriteCloser
	log  zerolog.Logger

	wmu sync.Mutex // one frame at a time on conn

	mu      sync.Mutex
	next    uint64
	pending map[string]chan []byte // relay id → where its answer goes
	done    chan struct{}          // closed when the connection is gone
	err     error                  // why, once done is closed
}

// NewRelay starts relaying over conn (from agent.DialLocal).
func NewRelay(conn io.ReadWriteCloser, log zerolog.Logger) *Relay {
	r := &Relay{conn: conn, log: log, pending: map[string]chan []byte{}, done: make(chan struct{})}
	go r.readLoop()
	return r
}

// Close closes the connection to the agent.
func (r *Relay) Close() error { return r.conn.Close() }

// Handle relays one request. Pages choose their ids and may reuse them, so
// each relayed request carries an id unique to this connection and the
// answer gets the page's id back.
func (r *Relay) Handle(ctx context.Context, origin string, req []byte) []byte {
	var fields map[string]json.RawMessage
	var pageID string
	if err := json.Unmarshal(req, &fields); err != nil || json.Unmarshal(fields["id"], &pageID) != nil {
		// Run only passes objects with a string id.
		return errorResponse("", protocol.BadRequest, messages.HostRequest)
	}

	r.mu.Lock()
	r.next++
	rid := "h" + strconv.FormatUint(r.next, 10)
	ch := make(chan []byte, 1)
	r.pending[rid] = ch
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.pending, rid)
		r.mu.Unlock()
	}()

	fields["id"], _ = json.Marshal(rid)
	env, err := json.Marshal(struct {
		Origin  string                     `json:"origin"`
		Request map[string]json.RawMessage `json:"request"`
	}{origin, fields})
	if err != nil {
		r.log.Error().Err(err).Msg("relay: encode")
		return errorResponse(pageID, protocol.Internal, messages.HostAgentLost)
	}
	r.wmu.Lock()
	err = frame.Write(r.conn, env)
	r.wmu.Unlock()
	if errors.Is(err, frame.ErrTooLarge) {
		return errorResponse(pageID, protocol.BadRequest, messages.HostTooLarge)
	}
	if err != nil {
		r.log.Error().Err(err).Msg("relay: write to agent")
		return errorResponse(pageID, protocol.Internal, messages.HostAgentLost)
	}

	select {
	case resp := <-ch:
		return withID(resp, pageID)
	case <-r.done:
		r.log.Error().Err(r.err).Str("id", pageID).Msg("relay: agent connection lost")
		return errorResponse(pageID, protocol.Internal, messages.HostAgentLost)
	case <-ctx.Done():
		// The browser went away; closing the connection (the caller's
		// Close) is what cancels the operation in the agent.
		return errorResponse(pageID, protocol.Internal, messages.HostCancelled)
	}
}

// readLoop hands each answer from the agent to the request it belongs to.
func (r *Relay) readLoop() {
	var err error
	for {
		var resp []byte
		resp, err = frame.Read(r.conn, frame.Max)
		if err != nil {
			break
		}
		var m struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(resp, &m)
		r.mu.Lock()
		ch, ok := r.pending[m.ID]
		if !ok && len(r.pending) == 1 {
			// An answer the agent could not attach an id to ("" for a
			// request it could not parse) belongs to the only request
			// waiting, if there is just one.
			for _, c := range r.pending {
				ch, ok = c, true
			}
		}
		r.mu.Unlock()
		if !ok {
			r.log.Warn().Str("id", m.ID).Msg("relay: answer to no pending request")
			continue
		}
		select {
		case ch <- resp: // buffered: the first answer is taken
		default:
			r.log.Warn().Str("id", m.ID).Msg("relay: second answer to one request")
		}
	}
	if err == io.EOF {
		err = errors.New("agent closed the connection")
	}
	r.err = fmt.Errorf("relay: read from agent: %w", err)
	close(r.done)
}

// withID replaces the id of a response with the page's own.
func withID(resp []byte, id string) []byte {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(resp, &fields); err != nil {
		return errorResponse(id, protocol.Internal, messages.HostAgentLost)
	}
	fields["id"], _ = json.Marshal(id)
	b, err := json.Marshal(fields)
	if err != nil {
		return errorResponse(id, protocol.Internal, messages.HostAgentLost)
	}
	return b
}
