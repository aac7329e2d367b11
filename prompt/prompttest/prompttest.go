// Package prompttest is a scripted, in-process prompt.Prompter for tests:
// it answers from a queue (or a fixed fallback) and records every call, so a
// test can assert what the person would have been shown. It is imported only
// by tests; the shipped binary never links it.
package prompttest

import (
	"context"
	"sync"

	"kyso.vn/kyso/prompt"
)

// Answer is one scripted reply. Exactly one field is meaningful for the
// dialog it answers; Err (e.g. prompt.ErrCancelled) wins over the others,
// and Block waits until ctx ends and returns ctx.Err().
type Answer struct {
	Approval prompt.Approval // ApproveOrigin
	Pick     int             // PickCertificate
	PIN      string          // PIN (copied; the caller wipes its copy)
	Err      error
	Block    bool
}

// Helpers for the common answers.
func Approve(a prompt.Approval) Answer { return Answer{Approval: a} }
func Pick(i int) Answer                { return Answer{Pick: i} }
func PIN(p string) Answer              { return Answer{PIN: p} }
func Cancel() Answer                   { return Answer{Err: prompt.ErrCancelled} }
func Block() Answer                    { return Answer{Block: true} }

// Call records one dialog shown.
type Call struct {
	Kind   string // "approve", "pick" or "pin"
	Origin string
	Certs  []prompt.CertChoice // pick
	PIN    prompt.PINRequest   // pin
}

// Prompter answers each dialog kind from its own queue; when a queue is
// empty it uses the Defaults answer of that kind, and with neither the
// dialog is cancelled (prompt.ErrCancelled). Safe for concurrent use.
type Prompter struct {
	mu       sync.Mutex
	approve  []Answer
	pick     []Answer
	pin      []Answer
	calls    []Call
	Defaults map[string]Answer // kind → answer when the queue is empty

	// Shown, when set, receives each call as it is made (before it is
	// answered), so a test can wait for a dialog to be open.
	Shown chan Call
}

// New returns a Prompter with no script: every dialog is cancelled.
func New() *Prompter { return &Prompter{Defaults: map[string]Answer{}} }

// OnApprove, OnPick and OnPIN queue answers for that dialog kind.
func (p *Prompter) OnApprove(a ...Answer) *Prompter { p.push(&p.approve, a); return p }
func (p *Prompter) OnPick(a ...Answer) *Prompter    { p.push(&p.pick, a); return p }
func (p *Prompter) OnPIN(a ...Answer) *Prompter     { p.push(&p.pin, a); return p }

// Always sets the fallback answer for a kind ("approve", "pick", "pin").
func (p *Prompter) Always(kind string, a Answer) *Prompter {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Defaults == nil {
		p.Defaults = map[string]Answer{}
	}
	p.Defaults[kind] = a
	return p
}

func (p *Prompter) push(q *[]Answer, a []Answer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	*q = append(*q, a...)
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
		if c.Kind == "pin" {
			out = append(out, c.PIN)
		}
	}
	return out
}

func (p *Prompter) next(ctx context.Context, c Call, q *[]Answer) (Answer, error) {
	p.mu.Lock()
	p.calls = append(p.calls, c)
	a, ok := Answer{}, false
	if len(*q) > 0 {
		a, ok = (*q)[0], true
		*q = (*q)[1:]
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
	a, err := p.next(ctx, Call{Kind: "approve", Origin: origin}, &p.approve)
	if err != nil {
		return prompt.Deny, err
	}
	return a.Approval, nil
}

func (p *Prompter) PickCertificate(ctx context.Context, origin string, certs []prompt.CertChoice) (int, error) {
	a, err := p.next(ctx, Call{Kind: "pick", Origin: origin, Certs: append([]prompt.CertChoice(nil), certs...)}, &p.pick)
	if err != nil {
		return -1, err
	}
	return a.Pick, nil
}

func (p *Prompter) PIN(ctx context.Context, req prompt.PINRequest) ([]byte, error) {
	a, err := p.next(ctx, Call{Kind: "pin", Origin: req.Origin, PIN: req}, &p.pin)
	if err != nil {
		return nil, err
	}
	return []byte(a.PIN), nil
}

var _ prompt.Prompter = (*Prompter)(nil)
