// Package prompttest is a scripted, in-process prompt.Prompter for tests:
// it answers from a queue (or a fixed fallback) and records every call, so a
// test can assert what the person would have been shown. It is imported only
// by tests and the bench's agent; the shipped binary never links it.
package prompttest

import (
	"context"
	"sync"

	"kyso.vn/kyso/prompt"
)

// Answer is one scripted reply. Exactly one field is meaningful for the
// dialog it answers; Err (e.g. prompt.ErrCancelled) wins over the others,
// and Block waits until ctx ends and returns ctx.Err().
//
// For the windows (PlugIn, PINPad, Progress): Err prompt.ErrCancelled opens
// the window and has the person cancel it at once; another Err makes the
// window fail to open (e.g. prompt.ErrNoDialog); CancelAt > 0 has the
// person cancel a progress window once it shows that many done; otherwise
// the window stays open until it is closed.
type Answer struct {
	Approval prompt.Approval // ApproveOrigin
	Pick     int             // PickCertificate
	PIN      string          // PIN (copied; the caller wipes its copy)
	Err      error
	Block    bool
	CancelAt int // Progress
}

// Helpers for the common answers.
func Approve(a prompt.Approval) Answer { return Answer{Approval: a} }
func Pick(i int) Answer                { return Answer{Pick: i} }
func PIN(p string) Answer              { return Answer{PIN: p} }
func Cancel() Answer                   { return Answer{Err: prompt.ErrCancelled} }
func Block() Answer                    { return Answer{Block: true} }
func Sign() Answer                     { return Answer{} } // Confirm: the Sign button
func NoDialog() Answer                 { return Answer{Err: prompt.ErrNoDialog} }

// Dialog kinds, for Always, Count and Call.Kind.
const (
	KindApprove  = "approve"
	KindPick     = "pick"
	KindPIN      = "pin"
	KindConfirm  = "confirm"
	KindPINPad   = "pinpad"
	KindPlugIn   = "plugin"
	KindProgress = "progress"
)

// Call records one dialog or window shown.
type Call struct {
	Kind   string // one of the Kind constants
	Origin string
	Certs  []prompt.CertChoice // pick
	PIN    prompt.PINRequest   // pin, pinpad
	Op     prompt.Operation    // confirm, progress (and pin, pinpad: PIN.Operation)
}

// Prompter answers each dialog kind from its own queue; when a queue is
// empty it uses the Defaults answer of that kind, and with neither a dialog
// is cancelled (prompt.ErrCancelled) and a window stays open. Safe for
// concurrent use.
type Prompter struct {
	mu       sync.Mutex
	queues   map[string][]Answer
	calls    []Call
	updates  []int
	Defaults map[string]Answer // kind → answer when the queue is empty

	// Shown, when set, receives each call as it is made (before it is
	// answered), so a test can wait for a dialog to be open.
	Shown chan Call
	// Forget: keep no record of the calls (Calls, Count and Updates stay
	// empty), for a long-running user such as the bench's agent, whose
	// every signing operation is confirmed.
	Forget bool
}

// New returns a Prompter with no script: every dialog is cancelled.
func New() *Prompter {
	return &Prompter{Defaults: map[string]Answer{}, queues: map[string][]Answer{}}
}

// On queues answers for a dialog kind; OnApprove, OnPick, OnPIN and
// OnConfirm are On for their kind.
func (p *Prompter) On(kind string, a ...Answer) *Prompter {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.queues == nil {
		p.queues = map[string][]Answer{}
	}
	p.queues[kind] = append(p.queues[kind], a...)
	return p
}

func (p *Prompter) OnApprove(a ...Answer) *Prompter { return p.On(KindApprove, a...) }
func (p *Prompter) OnPick(a ...Answer) *Prompter    { return p.On(KindPick, a...) }
func (p *Prompter) OnPIN(a ...Answer) *Prompter     { return p.On(KindPIN, a...) }
func (p *Prompter) OnConfirm(a ...Answer) *Prompter { return p.On(KindConfirm, a...) }

// Always sets the fallback answer for a kind.
func (p *Prompter) Always(kind string, a Answer) *Prompter {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Defaults == nil {
		p.Defaults = map[string]Answer{}
	}
	p.Defaults[kind] = a
	return p
}

// Calls returns the dialogs shown so far.
func (p *Prompter) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Call(nil), p.calls...)
}

// Count returns how many dialogs of kind were shown.
func (p *Prompter) Count(kind string) int {
	n := 0
	for _, c := range p.Calls() {
		if c.Kind == kind {
			n++
		}
	}
	return n
}

// PINCalls returns the PIN requests shown, in order.
func (p *Prompter) PINCalls() []prompt.PINRequest {
	var out []prompt.PINRequest
	for _, c := range p.Calls() {
		if c.Kind == KindPIN {
			out = append(out, c.PIN)
		}
	}
	return out
}

// Updates returns the done counts progress windows were given, in order.
func (p *Prompter) Updates() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int(nil), p.updates...)
}

// next records c and takes its answer; ok is false when there is none.
func (p *Prompter) next(ctx context.Context, c Call) (Answer, bool) {
	p.mu.Lock()
	if !p.Forget {
		p.calls = append(p.calls, c)
	}
	a, ok := Answer{}, false
	if q := p.queues[c.Kind]; len(q) > 0 {
		a, ok = q[0], true
		p.queues[c.Kind] = q[1:]
	} else if d, has := p.Defaults[c.Kind]; has {
		a, ok = d, true
	}
	shown := p.Shown
	p.mu.Unlock()
	if shown != nil {
		select {
		case shown <- c:
		case <-ctx.Done():
		}
	}
	return a, ok
}

// answer is a dialog's scripted end.
func (p *Prompter) answer(ctx context.Context, c Call) (Answer, error) {
	a, ok := p.next(ctx, c)
	if !ok {
		return a, prompt.ErrCancelled
	}
	if a.Block {
		<-ctx.Done()
		return a, ctx.Err()
	}
	if err := ctx.Err(); err != nil {
		return a, err // a real dialog closes when ctx ends
	}
	return a, a.Err
}

func (p *Prompter) ApproveOrigin(ctx context.Context, origin string) (prompt.Approval, error) {
	a, err := p.answer(ctx, Call{Kind: KindApprove, Origin: origin})
	if err != nil {
		return prompt.Deny, err
	}
	if a.Approval == prompt.Deny {
		return prompt.Deny, prompt.ErrCancelled // as a real dialog says Deny
	}
	return a.Approval, nil
}

func (p *Prompter) PickCertificate(ctx context.Context, origin string, certs []prompt.CertChoice) (int, error) {
	a, err := p.answer(ctx, Call{Kind: KindPick, Origin: origin, Certs: append([]prompt.CertChoice(nil), certs...)})
	if err != nil {
		return -1, err
	}
	return a.Pick, nil
}

func (p *Prompter) PIN(ctx context.Context, req prompt.PINRequest) ([]byte, error) {
	a, err := p.answer(ctx, Call{Kind: KindPIN, Origin: req.Origin, PIN: req, Op: req.Operation})
	if err != nil {
		return nil, err
	}
	return []byte(a.PIN), nil
}

func (p *Prompter) Confirm(ctx context.Context, op prompt.Operation) error {
	_, err := p.answer(ctx, Call{Kind: KindConfirm, Origin: op.Origin, Op: op})
	return err
}

func (p *Prompter) PINPad(ctx context.Context, req prompt.PINRequest) (prompt.Shown, error) {
	return p.window(ctx, Call{Kind: KindPINPad, Origin: req.Origin, PIN: req, Op: req.Operation})
}

func (p *Prompter) PlugIn(ctx context.Context, origin string) (prompt.Shown, error) {
	return p.window(ctx, Call{Kind: KindPlugIn, Origin: origin})
}

func (p *Prompter) Progress(ctx context.Context, op prompt.Operation) (prompt.Shown, error) {
	return p.window(ctx, Call{Kind: KindProgress, Origin: op.Origin, Op: op})
}

func (p *Prompter) window(ctx context.Context, c Call) (prompt.Shown, error) {
	a, _ := p.next(ctx, c)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w := &window{p: p, cancelAt: a.CancelAt, done: make(chan struct{})}
	switch {
	case a.Err == prompt.ErrCancelled:
		w.cancel()
	case a.Err != nil:
		return nil, a.Err
	}
	return w, nil
}

// window is a scripted window: open until closed, or cancelled by the
// script.
type window struct {
	p        *Prompter
	cancelAt int
	once     sync.Once
	done     chan struct{}
}

func (w *window) cancel() { w.once.Do(func() { close(w.done) }) }

func (w *window) Update(done int) {
	w.p.mu.Lock()
	if !w.p.Forget {
		w.p.updates = append(w.p.updates, done)
	}
	w.p.mu.Unlock()
	if w.cancelAt > 0 && done >= w.cancelAt {
		w.cancel()
	}
}

func (w *window) Done() <-chan struct{} { return w.done }

func (w *window) Err() error {
	select {
	case <-w.done:
		return prompt.ErrCancelled
	default:
		return nil
	}
}

func (w *window) Close() {}

var _ prompt.Prompter = (*Prompter)(nil)
