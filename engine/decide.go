package engine

import (
	"errors"
	"fmt"
)

// policy returns the current policy, re-reading the files when one of them
// changed (size or mtime): an edit by an admin, `kyso origins allow` or
// `kyso origins revoke` (a revocation too), or an approval the engine saved
// itself, takes effect at the next request, without a restart. A broken
// file is an error until it is fixed.
func (e *Engine) policy() (*policy, error) {
	e.polMu.Lock()
	defer e.polMu.Unlock()
	p := e.o.Paths
	// Under polMu: concurrent requests wait for one stat instead of all
	// stat'ing; it is three stats (and a registry key's time on Windows),
	// a few µs.
	sig := [4]fileSig{statSig(p.System), statSig(p.User), statSig(p.Approvals), groupPolicySig()}
	// A system policy refused for who may change it is looked at again
	// each time: fixing its owner or mode does not change the file.
	var untrusted *UntrustedPolicy
	recheck := errors.As(e.polErr, &untrusted)
	if !e.loaded || sig != e.polSig || recheck {
		before := e.polErr
		e.pol, e.polErr = loadPolicy(p)
		e.polSig, e.loaded = sig, true
		// Logged once per change: the re-check must not log on every
		// request a page sends.
		if e.polErr != nil && (before == nil || before.Error() != e.polErr.Error()) {
			e.o.Log.Error().Err(e.polErr).Msg("policy broken: every origin is denied until it is fixed")
		}
		e.warnIgnored(e.pol)
	}
	return e.pol, e.polErr
}

type decision int

const (
	denied decision = iota
	approvable
	allowed
)

// decide applies the policy to an origin: the scheme rule, then blocked
// (which beats allowed), then allowed, then user approval.
func (p *policy) decide(o origin) decision {
	if o.scheme == "http" && !(p.AllowLocalhost && loopback(o.host)) {
		return denied
	}
	for _, b := range p.blocked {
		if b.match(o) {
			return denied
		}
	}
	for _, a := range p.allowed {
		if a.match(o) {
			return allowed
		}
	}
	if p.UserApproval {
		return approvable
	}
	return denied
}

// MayAsk reports (nil) whether origin may talk to Kyso at all: of an allowed
// scheme, not blocked, and allowed or still approvable. Front-ends use it
// before accepting a connection (the WebSocket Origin check).
func (e *Engine) MayAsk(rawOrigin string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			e.o.Log.Error().Interface("panic", r).Msg("engine panic")
			err = fmt.Errorf("engine panic: %v", r)
		}
	}()
	pol, err := e.policy()
	if err != nil {
		return fmt.Errorf("policy broken, every origin denied: %w", err)
	}
	o, err := parseOrigin(rawOrigin)
	if err != nil {
		return err
	}
	if pol.decide(o) == denied {
		return fmt.Errorf("origin %s is denied by the policy", o)
	}
	return nil
}

// Allowed reports whether origin is allowed now (by the policy, the user's
// config or a saved approval), not merely one the user may still approve.
// The agent keeps part of its connection cap for allowed origins: with
// userApproval on, any https page may connect, and a site with wildcard DNS
// has endless origins to fill the cap with.
func (e *Engine) Allowed(rawOrigin string) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			e.o.Log.Error().Interface("panic", r).Msg("engine panic")
			ok = false
		}
	}()
	pol, err := e.policy()
	if err != nil {
		return false
	}
	o, err := parseOrigin(rawOrigin)
	return err == nil && pol.decide(o) == allowed
}
