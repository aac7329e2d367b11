package engine

import (
	"sync"
	"time"
)

// RateWindow and RateMax are the rate limit of DESIGN.md: RateMax declined
// or cancelled prompts of one origin within RateWindow. ApprovalStormMax is
// the limit on declined approval dialogs of all origins together, kept in
// Declines under a key of its own (see approvalKey): a Declines store must
// keep that many entries per key, for RateWindow. A store need not hold more
// than MaxDeclineOrigins origins: a site with wildcard DNS has endless
// origins to decline under, and only an origin's own declines limit it.
const (
	RateWindow        = 60 * time.Second
	RateMax           = 3
	ApprovalStormMax  = 2 * RateMax
	MaxDeclineOrigins = 1024
)

// Gate admits one interactive operation at a time (DESIGN.md: BUSY, no
// queue). The default is this engine alone; front-ends that may run in
// several processes for one user (`kyso serve`, `kyso host` without an
// agent) pass one shared by all of them, so that a page cannot open a
// dialog in each.
type Gate interface {
	// TryAcquire takes the gate without waiting: ok and how to give it
	// back, or !ok while another holder has it (BUSY). An error means it
	// cannot tell, and the engine refuses with INTERNAL: unsure is not
	// free. At most one holder at a time, also within one process: the
	// engine keeps per-operation state under it.
	TryAcquire() (release func(), ok bool, err error)
}

// Declines records each origin's declined or cancelled prompts, for the rate
// limit. As Gate, the default is this engine's memory; front-ends pass one
// shared by all the user's Kyso processes.
type Declines interface {
	// Add records a decline of origin at t. A store may forget entries
	// older than RateWindow before t.
	Add(origin string, t time.Time) error
	// Count is how many declines of origin are later than since.
	Count(origin string, since time.Time) (int, error)
}

// memGate is the in-process Gate.
type memGate struct{ mu sync.Mutex }

func (g *memGate) TryAcquire() (func(), bool, error) {
	if !g.mu.TryLock() {
		return nil, false, nil
	}
	return g.mu.Unlock, true, nil
}

// memDeclines is the in-process Declines.
type memDeclines struct {
	mu sync.Mutex
	m  map[string][]time.Time // origin → declined/cancelled prompts
}

func newMemDeclines() *memDeclines { return &memDeclines{m: map[string][]time.Time{}} }

func (d *memDeclines) Add(origin string, t time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	since := t.Add(-RateWindow)
	// Past MaxDeclineOrigins the table is swept of expired entries: an
	// origin seen once is otherwise only pruned when it asks again.
	if len(d.m) >= MaxDeclineOrigins {
		for o := range d.m {
			d.prune(o, since)
		}
	}
	d.m[origin] = append(d.prune(origin, since), t)
	return nil
}

func (d *memDeclines) Count(origin string, since time.Time) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.prune(origin, since)), nil
}

// prune drops origin's declines not later than since and returns the rest.
// Callers hold d.mu.
func (d *memDeclines) prune(origin string, since time.Time) []time.Time {
	kept := d.m[origin][:0]
	for _, t := range d.m[origin] {
		if t.After(since) {
			kept = append(kept, t)
		}
	}
	if len(kept) == 0 {
		delete(d.m, origin)
		return nil
	}
	d.m[origin] = kept
	return kept
}
