package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/rs/zerolog"
)

// runner makes an operation's calls into the token, one after another, on
// a goroutine of its own. A call into a PKCS#11 module cannot be
// interrupted, and a token may hang inside one (a reader that stops
// answering): the operation waits for a call only as long as its context
// lives, then answers without it, and the call goes on alone. The runner
// then runs what finish gave it — closing the key, giving the one-dialog
// gate back — once that call returns, so nothing is closed under it.
type runner struct {
	calls     chan func()
	log       zerolog.Logger
	abandoned bool // a call is still running that the operation stopped waiting for
}

// errAbandoned: the operation made a call after it stopped waiting for one
// (a bug: it must end then).
var errAbandoned = errors.New("engine: a call into the token is still running")

func newRunner(log zerolog.Logger) *runner {
	// One place: at most one call waits behind a running one — finish's,
	// after an abandoned call — so neither do nor finish ever blocks.
	r := &runner{calls: make(chan func(), 1), log: log}
	go func() {
		for f := range r.calls {
			f()
		}
	}()
	return r
}

// do runs f on the runner and waits until it returns, ctx ends (its cause
// is returned) or stop is closed (errStopped). A panic in f is a bug: it is
// returned as an error (INTERNAL), and the process goes on.
func (r *runner) do(ctx context.Context, stop <-chan struct{}, f func() error) error {
	if r.abandoned {
		return errAbandoned
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	res := make(chan error, 1)
	r.calls <- func() { res <- r.safe(f) }
	var why error
	select {
	case err := <-res:
		return err
	case <-ctx.Done():
		why = context.Cause(ctx)
	case <-stop:
		why = errStopped
	}
	// A token that works finishes the call (a signature; a batch stops
	// before its next one) within abandonAfter: wait for it, so that the
	// key is closed and the gate given back before the answer. A token
	// that does not is left to finish alone.
	t := time.NewTimer(abandonAfter)
	defer t.Stop()
	select {
	case <-res:
	case <-t.C:
		r.abandoned = true
		r.log.Warn().Err(why).Msg("stopped waiting for a call into the token; it goes on alone")
	}
	return why
}

// abandonAfter is how long an operation that ends (the page went away, the
// person cancelled) still waits for its call into the token: longer than
// one signature of a slow token (0.1–1 s).
const abandonAfter = 1500 * time.Millisecond

// errStopped: do stopped waiting because stop was closed.
var errStopped = errors.New("engine: stopped waiting for the token")

func (r *runner) safe(f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			r.log.Error().Interface("panic", v).Str("stack", string(debug.Stack())).Msg("engine panic")
			err = fmt.Errorf("engine panic in a token call: %v", v)
		}
	}()
	return f()
}

// finish runs f on the runner and ends it. When no call is left running
// it waits for f, so that the operation answers after its key is closed
// and the gate given back; after an abandoned call it does not wait: f
// runs when that call returns.
func (r *runner) finish(f func()) {
	if !r.abandoned {
		done := make(chan struct{})
		r.calls <- func() { defer close(done); f() }
		close(r.calls)
		<-done
		return
	}
	r.calls <- func() {
		r.log.Info().Msg("the call into the token the operation stopped waiting for has returned")
		f()
	}
	close(r.calls)
}

// token runs f, a call into op's token, on op's runner (see runner.do).
func (op *operation) token(ctx context.Context, f func() error) error {
	return op.tokenOr(ctx, nil, f)
}

// tokenOr is token that also stops waiting when stop is closed.
func (op *operation) tokenOr(ctx context.Context, stop <-chan struct{}, f func() error) error {
	if op.run == nil {
		op.run = newRunner(op.e.o.Log)
	}
	return op.run.do(ctx, stop, f)
}
