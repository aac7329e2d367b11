// Package host is `kyso host`, the native-messaging host the Kyso browser
// extension starts. It reads framed envelopes {"origin", "request"} from the
// browser on stdin, reads each request once (engine.ParseRequest) and hands
// it to a Backend (a relay to the running agent, or the engine in-process),
// and writes the plain protocol v1 responses to stdout. Stdout is the
// protocol: nothing else may write to it.
package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/rs/zerolog"

	"kyso.vn/kyso/engine"
	"kyso.vn/kyso/internal/frame"
	"kyso.vn/kyso/messages"
	"kyso.vn/kyso/protocol"
)

// Backend answers one protocol v1 request on behalf of origin, read by
// the host. ctx ends when the browser closes the port, which must cancel the
// operation and close its dialog. progress gets the request's progress
// messages, whole, before Answer returns. *engine.Engine is a Backend; so
// is *Relay.
type Backend interface {
	Answer(ctx context.Context, origin string, req engine.Request, progress func(msg []byte)) []byte
}

// maxEnvelope bounds one message from the browser: a document operation's
// request (protocol.MaxDocumentMessage, also Chrome's limit for a message
// to a host) with room for the envelope's origin and keys. What is inside
// is then held to its op's limit.
const maxEnvelope = protocol.MaxDocumentMessage + protocol.MaxMessage

// drainWait bounds how long Run waits, after the browser went away, for
// cancelled operations to return before it exits anyway.
const drainWait = 5 * time.Second

// Run serves the browser's messages from in until it closes, answering on
// out. Requests run concurrently; responses are written whole, one at a
// time, in the order they finish (one over 1 MiB as parts, writeAnswer). A
// frame that cannot be parsed is answered with BAD_REQUEST and the stream
// goes on; a request over its op's limit (protocol.MaxRequest) too; a
// length over maxEnvelope cannot be skipped safely, so it is answered and
// Run returns an error. When in ends,
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
		if len(resp) > protocol.MaxAnswer {
			// The extension joins parts up to 96 MiB; tell the page instead.
			log.Warn().Str("id", id).Int("bytes", len(resp)).Msg("response too large")
			resp = errorResponse(id, protocol.BadRequest, messages.HostRespLarge)
		}
		wmu.Lock()
		defer wmu.Unlock()
		if writeErr != nil {
			return
		}
		// Over 1 MiB (Chrome's limit for one message from a host): parts,
		// all under wmu, so nothing comes between them.
		if err := writeAnswer(out, id, resp); err != nil {
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
			msg, err := frame.Read(in, maxEnvelope)
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
		origin, req, bad := parseEnvelope(r.msg)
		r.msg = nil // the request's bytes are in req.Raw
		if bad == nil && len(req.Raw) > protocol.MaxRequest(req.Op) {
			// Refused here too, so that the relay never carries it.
			bad = &messages.HostTooLarge
		}
		if bad != nil {
			log.Warn().Str("id", req.ID).Str("problem", bad.EN).Msg("bad message from the extension")
			write(req.ID, errorResponse(req.ID, protocol.BadRequest, *bad))
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			resp := b.Answer(ctx, origin, req, func(msg []byte) { write(req.ID, msg) })
			log.Debug().Str("origin", origin).Str("id", req.ID).Dur("took", time.Since(start)).Msg("answered")
			write(req.ID, resp)
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

// envelope is a message from the extension. Keys other than these are
// let through, as the extension may add some.
type envelope struct {
	Origin  *string        `json:"origin"`
	Request jsontext.Value `json:"request"`
}

// parseEnvelope reads one message from the extension and the request in
// it, once. On failure, bad is the problem; req.ID is the request's id
// when one could be read ("" otherwise).
func parseEnvelope(msg []byte) (origin string, req engine.Request, bad *messages.Text) {
	var env envelope
	if !utf8.Valid(msg) || jsonv2.Unmarshal(msg, &env) != nil {
		return "", req, &messages.HostFrame
	}
	req = engine.ParseRequest(env.Request)
	if req.ID == "" {
		// Every request the host answers carries the page's id, so that
		// kyso.js can match it; one without is refused here.
		return "", engine.Request{}, &messages.HostRequest
	}
	if env.Origin == nil {
		// The extension always names the origin; a message without one did
		// not come from it as built, so it is malformed rather than denied.
		return "", req, &messages.HostEnvelope
	}
	return *env.Origin, req, nil
}
