package engine

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"kyso.vn/kyso/prompt"
	"kyso.vn/kyso/protocol"
)

// Progress receives a request's progress messages, each a whole protocol
// message {"id": …, "progress": {"done": n, "total": m}} ready for the
// page, at most a few per second, from a goroutine of the engine's, always
// before the request's answer. A front-end passes one per request; nil
// sends none.
type Progress = func(msg []byte)

// How a long signing operation reports: nothing for its first
// progressAfter (most operations are over by then), then the progress
// window and the page's messages every progressEvery while it runs.
const (
	progressAfter = 2 * time.Second
	progressEvery = 250 * time.Millisecond
)

// errProgressCancelled: the person pressed Cancel in the progress window.
var errProgressCancelled = errors.New("engine: cancelled in the progress window")

// reporter tells the person (the progress window) and the page (progress
// messages) how a long part of a signing operation goes: done of total
// signatures. Its context is cancelled (errProgressCancelled) when the
// person cancels the window.
type reporter struct {
	done atomic.Int64
	stop chan struct{}
	wg   sync.WaitGroup
}

// report starts reporting on op's signing of total signatures, described
// by desc, and returns the reporter and the context the reported work
// runs under. Call end when the work stops, before answering.
func (op *operation) report(ctx context.Context, desc prompt.Operation, total int) (*reporter, context.Context) {
	ctx, cancel := context.WithCancelCause(ctx)
	r := &reporter{stop: make(chan struct{})}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer func() {
			// A bug here (a prompter's) must not take the process down;
			// the signing goes on without its window.
			if v := recover(); v != nil {
				op.e.o.Log.Error().Interface("panic", v).Msg("engine panic in the progress reporter")
			}
		}()
		defer cancel(nil)
		wait := time.NewTimer(progressAfter)
		defer wait.Stop()
		select {
		case <-wait.C:
		case <-r.stop:
			return
		case <-ctx.Done():
			return
		}
		w, err := op.e.o.Prompter.Progress(ctx, desc)
		if err != nil {
			// The person consented to this signing; without the window
			// it goes on (the page can still cancel by going away).
			op.e.o.Log.Warn().Err(err).Msg("no progress window")
			w = nil
		}
		var gone <-chan struct{}
		if w != nil {
			defer w.Close()
			gone = w.Done()
		}
		tick := time.NewTicker(progressEvery)
		defer tick.Stop()
		last := -1
		for {
			if n := int(r.done.Load()); n != last {
				last = n
				if w != nil {
					w.Update(n)
				}
				if op.progress != nil {
					op.progress(protocol.ProgressMessage(op.id, n, total))
				}
			}
			select {
			case <-tick.C:
			case <-gone:
				if errors.Is(w.Err(), prompt.ErrCancelled) {
					cancel(errProgressCancelled)
					return
				}
				op.e.o.Log.Warn().Err(w.Err()).Msg("the progress window failed")
				w, gone = nil, nil
			case <-r.stop:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return r, ctx
}

// end stops reporting and closes the window; no progress message is sent
// after it returns.
func (r *reporter) end() {
	close(r.stop)
	r.wg.Wait()
}
