package engine

import (
	"context"
	"errors"
	"fmt"

	"kyso.vn/kyso/internal/logging"
	"kyso.vn/kyso/prompt"
	"kyso.vn/kyso/protocol"
)

// operation is one interactive operation, from the gate to its answer:
// its origin, how the policy decided it, and what became of its dialogs.
// Each request has its own, so nothing of one operation outlives it.
type operation struct {
	origin   origin
	decision decision
	// dismissed: a dialog closed because the operation's context ended
	// (the connection closed, or the time is up), not by the person.
	dismissed bool
}

// dialog passes on the error a dialog returned, noting whether it closed
// because ctx ended.
func (op *operation) dialog(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		op.dismissed = true
	}
	return err
}

// interactive runs an operation that may open dialogs: at most one at a time
// through o.Gate (BUSY, no queueing), under the user timeout, after the
// origin's approval when it is not allowed yet.
func (e *Engine) interactive(parent context.Context, o origin, d decision, run func(context.Context, *operation) (any, error)) (any, error) {
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
	defer release()
	ctx, cancel := context.WithTimeout(parent, e.o.UserTimeout)
	defer cancel()

	op := &operation{origin: o, decision: d}
	result, err := func() (any, error) {
		if d == approvable {
			if err := e.approve(ctx, op); err != nil {
				return nil, err
			}
		}
		return run(ctx, op)
	}()
	switch {
	case err == nil:
		return result, nil
	case errors.Is(err, prompt.ErrCancelled):
		e.declined(op)
		return nil, fail(protocol.UserCancelled)
	case ctx.Err() != nil && !isFailure(err) && parent.Err() != nil:
		// The connection closed: nobody reads this answer. A page that
		// closed it under an open dialog flashed that dialog at the
		// person; it counts as a cancelled prompt, so that it cannot be
		// done in a loop.
		if op.dismissed {
			e.declined(op)
		}
		return nil, &failure{code: protocol.UserCancelled, cause: parent.Err()}
	case ctx.Err() != nil && !isFailure(err):
		return nil, &failure{code: protocol.Timeout, cause: err}
	}
	return nil, err
}

// approve asks the person whether op's origin, not allowed yet, may ask:
// nil when allowed (this once, or always: then saved), else the dialog's
// error or prompt.ErrCancelled.
func (e *Engine) approve(ctx context.Context, op *operation) error {
	origin := op.origin.String()
	a, err := e.o.Prompter.ApproveOrigin(ctx, origin)
	if err != nil {
		return op.dialog(ctx, err)
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
		return prompt.ErrCancelled
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
