package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"kyso.vn/kyso/internal/logging"
	"kyso.vn/kyso/prompt"
	"kyso.vn/kyso/protocol"
	"kyso.vn/kyso/token"
)

// operation is one interactive operation, from the gate to its answer:
// its request, origin and policy decision, what became of its dialogs, and
// the token calls it made. Each request has its own, so nothing of one
// operation outlives it — except a call into the token that hangs, which
// its runner finishes alone (see end).
type operation struct {
	e        *Engine
	id       string   // the request's id, for its progress messages
	progress Progress // where its progress messages go; nil: nowhere
	origin   origin
	decision decision
	// declined: one of its dialogs was declined, cancelled, timed out,
	// could not be shown, or was closed because the page went away; it
	// counts toward the origin's rate limit.
	declined bool

	run  *runner       // its calls into the token, once it makes one
	key  token.Key     // the key it opened, closed at the end on run
	keep time.Duration // how long the token stays logged in after it (pinCacheSeconds)
}

// interactive runs an operation that may open dialogs: at most one at a time
// through o.Gate (BUSY, no queueing), after the origin's approval when it is
// not allowed yet. Each dialog has the person's time limit (ask); the
// operation itself has none: signing takes as long as the token takes, and
// ends early only when the page goes away or the person cancels.
//
// The gate is given back when the operation's last call into the token has
// returned: a call that hangs inside a PKCS#11 module cannot be stopped, so
// the operation answers without waiting for it, but the gate stays taken
// (other interactive requests get BUSY) until the token comes back and the
// key is closed (end).
func (e *Engine) interactive(ctx context.Context, o origin, d decision, req opRequest, run func(context.Context, *operation) (any, error)) (any, error) {
	limited, err := e.rateLimited(o.String(), RateMax)
	if err == nil && !limited && d == approvable {
		limited, err = e.rateLimited(approvalKey, ApprovalStormMax)
	}
	if err != nil {
		return nil, &failure{code: protocol.Internal, cause: err}
	}
	if limited {
		return nil, fail(protocol.RateLimited)
	}
	release, ok, err := e.o.Gate.TryAcquire()
	if err != nil {
		return nil, &failure{code: protocol.Internal, cause: fmt.Errorf("taking the interactive lock: %w", err)}
	}
	if !ok {
		return nil, fail(protocol.Busy)
	}
	op := &operation{e: e, id: req.id, progress: req.progress, origin: o, decision: d}
	defer op.end(release)

	result, err := func() (any, error) {
		if d == approvable {
			if err := e.approve(ctx, op); err != nil {
				return nil, err
			}
		}
		return run(ctx, op)
	}()
	if op.declined {
		e.declined(op)
	}
	switch {
	case err == nil:
		return result, nil
	case isFailure(err) || isTokenError(err):
		return nil, err
	case ctx.Err() != nil:
		// The connection closed: nobody reads this answer.
		return nil, &failure{code: protocol.UserCancelled, cause: err}
	}
	return nil, err
}

// opRequest is what an operation knows of its request.
type opRequest struct {
	id       string
	progress Progress
}

// end gives back what the operation holds: the key (closed on the token
// runner, after any call still running there) and then the gate.
func (op *operation) end(release func()) {
	if op.run == nil {
		release()
		return
	}
	key, keep, log := op.key, op.keep, op.e.o.Log
	op.run.finish(func() {
		if key != nil {
			if err := key.Close(keep); err != nil {
				log.Warn().Err(err).Msg("closing the token session")
			}
		}
		release()
	})
}

// ask shows one dialog under the person's time limit: UserTimeout for each
// dialog, never for the operation. It returns nil when the person gave an
// explicit answer, else the failure the page is told (dialogEnd).
func (op *operation) ask(ctx context.Context, show func(context.Context) error) error {
	dctx, cancel := context.WithTimeout(ctx, op.e.o.UserTimeout)
	defer cancel()
	return op.dialogEnd(ctx, dctx, show(dctx))
}

// dialogEnd maps how a dialog (shown under dctx, a child of the
// operation's ctx) ended to what the page is told, and notes the
// operation as declined for every end but an answer or the token's own
// reply: declined or closed (USER_CANCELLED), its time up (TIMEOUT, which
// counts like a decline: a page looping on time-outs must not hold the
// one-dialog lock forever), no dialog shown (NO_DIALOG), or the page gone
// (a dialog flashed at the person and closed, which must not be done in a
// loop either). An error the prompter is not documented to give is
// NO_DIALOG: dialogs fail closed.
func (op *operation) dialogEnd(ctx, dctx context.Context, err error) error {
	switch {
	case err == nil:
		return nil
	case isTokenError(err) || isFailure(err):
		return err // the token answered (a PIN pad's login): not the dialog
	}
	op.declined = true
	switch {
	case ctx.Err() != nil:
		return context.Cause(ctx)
	case dctx.Err() != nil:
		return &failure{code: protocol.Timeout, cause: err}
	case errors.Is(err, prompt.ErrCancelled):
		return fail(protocol.UserCancelled)
	}
	return &failure{code: protocol.NoDialog, cause: err}
}

// approve asks the person whether op's origin, not allowed yet, may ask:
// nil when allowed (this once, or always: then saved).
func (e *Engine) approve(ctx context.Context, op *operation) error {
	origin := op.origin.String()
	var a prompt.Approval
	err := op.ask(ctx, func(ctx context.Context) (err error) {
		a, err = e.o.Prompter.ApproveOrigin(ctx, origin)
		return err
	})
	if err != nil {
		return err
	}
	switch a {
	case prompt.AllowOnce:
		// Once means this one operation: the next request asks again.
	case prompt.AllowAlways:
		if err := saveApproval(e.o.Paths.Approvals, origin, e.o.Now()); err != nil {
			// The person said yes; go on, and say why it will ask again.
			e.o.Log.Error().Err(err).Str("origin", origin).Msg("saving the approval failed")
		}
	default:
		// Not an answer a prompter may give with no error: fail closed.
		op.declined = true
		return &failure{code: protocol.NoDialog, cause: fmt.Errorf("the consent dialog answered %d", a)}
	}
	return nil
}

// declined records a declined or cancelled prompt of op, for the origin's
// rate limit and, for an origin not allowed yet, the approval dialogs'.
func (e *Engine) declined(op *operation) {
	e.recordDecline(op.origin.String())
	if op.decision == approvable {
		e.recordDecline(approvalKey)
	}
}

func isFailure(err error) bool {
	var f *failure
	return errors.As(err, &f)
}

func isTokenError(err error) bool {
	var te *token.Error
	return errors.As(err, &te)
}

// approvalKey is the Declines entry, beside the origins' own, that counts
// declined "allow this site?" dialogs of every origin together. Per origin,
// DESIGN's limit (3 in 60 s) does not stop a site with wildcard DNS: each of
// a.evil.example, b.evil.example, … would get its own three dialogs. Once
// ApprovalStormMax such dialogs were declined within the window, origins not
// yet allowed get RATE_LIMITED without a dialog until it passes; allowed
// origins are not affected. (Not an origin: it has no scheme.)
const approvalKey = "approval-dialogs"

// rateLimited reports whether key (an origin, or approvalKey) had max
// declines within the window. A store that cannot be read is an error
// (INTERNAL): unsure is not under the limit.
func (e *Engine) rateLimited(key string, max int) (bool, error) {
	n, err := e.o.Declines.Count(key, e.o.Now().Add(-RateWindow))
	if err != nil {
		return false, fmt.Errorf("reading the rate-limit record: %w", err)
	}
	return n >= max, nil
}

// recordDecline notes a declined or cancelled prompt of origin. A failure is
// logged, not answered: the answer is USER_CANCELLED either way.
func (e *Engine) recordDecline(origin string) {
	if err := e.o.Declines.Add(origin, e.o.Now()); err != nil {
		e.o.Log.Error().Err(err).Str("origin", logging.Truncate(origin, 200)).Msg("recording a declined prompt failed")
	}
}
