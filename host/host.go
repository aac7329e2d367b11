// Package host is `kyso host`, the native-messaging host the Kyso browser
// extension starts. It reads framed envelopes {"origin", "request"} from the
// browser on stdin, hands each request to a Backend (a relay to the running
// agent, or the engine in-process) and writes the plain protocol v1
// responses to stdout. Stdout is the protocol: nothing else may write to it.
package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/internal/frame"
	"kyso.vn/kyso/messages"
	"kyso.vn/kyso/protocol"
)

// Backend answers one protocol v1 request on behalf of origin. ctx ends when
// the browser closes the port, which must cancel the operation and close its
// dialog. *engine.Engine is a Backend; so is *Relay.
type Backend interface {
	Handle(ctx context.Context, origin string, req []byte) []byte
}

// drainWait bounds how long Run waits, after the browser went away, for
// cancelled operations to return before it exits anyway.
const drainWait = 5 * time.Second

// Run serves the browser's messages from in until it closes, answering on
// out. Requests run concurrently; responses are written whole, one at a
// time, in the order they finish. A frame that cannot be parsed is answered
// with BAD_REQUEST and the stream goes on; a length over 1 MiB cannot be
// skipped safely, so it is answered and Run returns an error. When in ends,
// pending operations are cancelled and Run returns nil.
func Run(ctx context.Context, in io.Reader, out io.Writer, b Backend, log zerolog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var (
		wmu      sync.Mutex
		writeErr error
		wg       sync.WaitGroup
	)
	write := func(id string, resp []byte) {
		if len(resp) > frame.Max {
			// Chrome drops the port on a bigger message; tell the page instead.
			log.Warn().Str("id", id).Int("bytes", len(resp)).Msg("response too large")
			resp = errorResponse(id, protocol.BadRequest, messages.HostRespLarge)
		}
		wmu.Lock()
		defer wmu.Unlock()
		if writeErr != nil {
			return
		}
		if err := frame.Write(out, resp); err != nil {
			writeErr = fmt.Errorf("host: write to browser: %w", err)
			cancel() // nobody is listening any more
		}
	}

	// Frames are read in their own goroutine so that Run also ends when
	// ctx does (a stop signal), not only when the browser closes stdin.
	type read struct {
		msg []byte
		err error
	}
	reads := make(chan read)
	go func() {
		for {
			msg, err := frame.Read(in, frame.Max)
			select {
			case reads <- read{msg, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()

	var runErr error
loop:
	for {
		var r read
		select {
		case r = <-reads:
		case <-ctx.Done():
			log.Debug().Msg("stopping")
			break loop
		}
		if r.err == io.EOF {
			log.Debug().Msg("browser closed the port")
			break loop
		}
		if errors.Is(r.err, frame.ErrTooLarge) {
			log.Warn().Err(r.err).Msg("frame too large; stream out of sync")
			write("", errorResponse("", protocol.BadRequest, messages.HostTooLarge))
			runErr = fmt.Errorf("host: read from browser: %w", r.err)
			break loop
		}
		if r.err != nil {
			// A truncated frame means the browser went away mid-message.
			log.Warn().Err(r.err).Msg("read from browser")
			break loop
		}
		origin, req, id, bad := parseEnvelope(r.msg)
		if bad != nil {
			log.Warn().Str("id", id).Str("problem", bad.EN).Msg("bad message from the extension")
			write(id, errorResponse(id, protocol.BadRequest, *bad))
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				// An engine bug must not take the other requests down.
				if p := recover(); p != nil {
					log.Error().Str("origin", origin).Str("id", id).Interface("panic", p).Msg("backend panic")
					write(id, errorResponse(id, protocol.Internal, messages.HostInternal))
				}
			}()
			start := time.Now()
			resp := b.Handle(ctx, origin, req)
			log.Debug().Str("origin", origin).Str("id", id).Dur("took", time.Since(start)).Msg("answered")
			write(id, resp)
		}()
	}

	// The browser is gone (or the stream is broken): cancel what is pending,
	// which closes its dialogs, and give it a moment to unwind.
	cancel()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(drainWait):
		log.Warn().Msg("pending operations did not end after cancel")
	}
	wmu.Lock()
	defer wmu.Unlock()
	if runErr == nil {
		runErr = writeErr
	}
	return runErr
}

// parseEnvelope checks one message from the extension. It returns the
// origin, the raw request and its id; on failure, bad is the problem and
// id is the request id when one could be read ("" otherwise).
func parseEnvelope(msg []byte) (origin string, req []byte, id string, bad *messages.Text) {
	var env struct {
		Origin  *string         `json:"origin"`
		Request json.RawMessage `json:"request"`
	}
	if !utf8.Valid(msg) || json.Unmarshal(msg, &env) != nil {
		return "", nil, "", &messages.HostFrame
	}
	id, ok := protocol.RequestID(env.Request)
	if !ok {
		return "", nil, "", &messages.HostRequest
	}
	if env.Origin == nil {
		// The extension always names the origin; a message without one did
		// not come from it as built, so it is malformed rather than denied.
		return "", nil, id, &messages.HostEnvelope
	}
	return *env.Origin, env.Request, id, nil
}
