// Package engine is the one engine behind both front-ends (the WebSocket
// agent and the native-messaging host): protocol v1 parsing and validation,
// origin policy, and the operations, which talk to tokens through
// token.Provider and to the person through prompt.Prompter.
package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/messages"
	"kyso.vn/kyso/prompt"
	"kyso.vn/kyso/protocol"
	"kyso.vn/kyso/token"
)

// Version is the Kyso version, stamped by the linker (-X).
var Version = "0.0.0-dev"

// Protocol is the protocol version this engine speaks.
const Protocol = 1

// Defaults of Options.
const (
	DefaultUserTimeout = 120 * time.Second
)

// Options wires an Engine.
type Options struct {
	Provider token.Provider
	Prompter prompt.Prompter
	Paths    Paths // where the policy, config and approvals live
	Log      zerolog.Logger
	// Audit, when set, also gets the line of every request that a person
	// or a token took part in (see audited): the signing record, which a
	// page cannot flush out of the logs by asking `version` in a loop.
	Audit *zerolog.Logger

	// UserTimeout bounds the whole interactive part of an operation
	// (dialogs and signing); 0 means DefaultUserTimeout (120 s).
	UserTimeout time.Duration
	// Now is the clock of the rate limit and the PIN cache window; nil
	// means time.Now. Tests move it.
	Now func() time.Time
	// Lang is "vi" or "en" for the error messages; "" detects the locale.
	Lang string

	// Gate admits one interactive operation at a time and Declines keeps
	// the rate limit's record; nil means this engine's memory only.
	// Front-ends that may run in several processes for one user share
	// them across processes (internal/limits).
	Gate     Gate
	Declines Declines
}

// Paths locates the policy files. System has no override (what an admin
// locks, a user cannot unlock); User is config.json (--config overrides).
type Paths struct {
	System    string
	User      string
	Approvals string
}

// Engine answers protocol v1 requests. Safe for concurrent use.
type Engine struct {
	o Options

	polMu      sync.Mutex
	polSig     [3]fileSig
	pol        *policy
	polErr     error
	loaded     bool
	polChecked time.Time     // when the files were last stat'ed (wall clock, not o.Now)
	polEvery   time.Duration // at most one stat of the files per polEvery

	// dismissed: a dialog of the current interactive operation closed
	// because its context ended. Only the holder of o.Gate touches it.
	dismissed bool

	mu    sync.Mutex
	pinAt map[string]time.Time // origin+certificate → last good PIN
}

// New returns an Engine.
func New(o Options) (*Engine, error) {
	if o.Provider == nil || o.Prompter == nil {
		return nil, errors.New("engine: a Provider and a Prompter are required")
	}
	if o.UserTimeout <= 0 {
		o.UserTimeout = DefaultUserTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Lang == "" {
		o.Lang = messages.Lang()
	}
	if o.Gate == nil {
		o.Gate = &memGate{}
	}
	if o.Declines == nil {
		o.Declines = newMemDeclines()
	}
	return &Engine{o: o, pinAt: map[string]time.Time{}, polEvery: policyCheckInterval}, nil
}

// Settings returns the effective settings as the files now say (front-ends
// read the port and modules from it).
func (e *Engine) Settings() (Settings, error) {
	pol, err := e.policy()
	if err != nil {
		return Settings{}, err
	}
	return pol.Settings, nil
}

// policyCheckInterval is how often, at most, the engine stats the three
// policy files to see whether one changed. An edit by an admin, `kyso
// origins allow` or `kyso origins revoke` (a revocation too) takes effect
// without a restart, within this quarter second; an approval the engine
// saves itself takes effect at once. Stat'ing on every request cost three
// system calls per request, a fifth of the engine's own time.
const policyCheckInterval = 250 * time.Millisecond

// policy returns the current policy, re-reading the files when one of them
// changed (size or mtime), looked at no more often than polEvery. A broken
// file is an error until it is fixed.
func (e *Engine) policy() (*policy, error) {
	e.polMu.Lock()
	defer e.polMu.Unlock()
	// The wall clock, not o.Now: tests move o.Now for the rate limit.
	now := time.Now()
	if e.loaded && e.polEvery > 0 && now.Sub(e.polChecked) < e.polEvery && now.Sub(e.polChecked) >= 0 {
		return e.pol, e.polErr
	}
	p := e.o.Paths
	// Under polMu: concurrent requests wait for one stat instead of all
	// stat'ing; it is three stats, a few µs.
	sig := [3]fileSig{statSig(p.System), statSig(p.User), statSig(p.Approvals)}
	e.polChecked = now
	if !e.loaded || sig != e.polSig {
		e.pol, e.polErr = loadPolicy(p)
		e.polSig, e.loaded = sig, true
		if e.polErr != nil {
			e.o.Log.Error().Err(e.polErr).Msg("policy broken: every origin is denied until it is fixed")
		}
	}
	return e.pol, e.polErr
}

// policyChanged makes the next request look at the files again (the engine
// just wrote one).
func (e *Engine) policyChanged() {
	e.polMu.Lock()
	defer e.polMu.Unlock()
	e.polChecked = time.Time{}
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
func (e *Engine) MayAsk(rawOrigin string) error {
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
func (e *Engine) Allowed(rawOrigin string) bool {
	pol, err := e.policy()
	if err != nil {
		return false
	}
	o, err := parseOrigin(rawOrigin)
	return err == nil && pol.decide(o) == allowed
}

// audited tells the requests of the signing record: the interactive
// operations that signed or gave a certificate, or ended in a person's or
// a token's answer. The others (version, refusals before any dialog: bad
// input, denied origin, BUSY, RATE_LIMITED, no token or certificate) a page
// can repeat at will, so they go to the main log only.
func audited(op string, code protocol.Code) bool {
	switch op {
	case "getCertificate", "sign", "signBatch":
	default:
		return false
	}
	switch code {
	case "", protocol.UserCancelled, protocol.Timeout, protocol.PINLocked, protocol.TokenRemoved, protocol.TokenError, protocol.Internal:
		return true
	}
	return false
}

// logRec collects what the request's one log line says.
type logRec struct {
	op, id, cert string
	count        int
}

// Handle answers one raw request from origin. ctx ends when the caller's
// connection closes, which cancels the operation and closes its dialog.
func (e *Engine) Handle(ctx context.Context, rawOrigin string, raw []byte) []byte {
	start := time.Now()
	var rec logRec
	resp := e.handle(ctx, rawOrigin, raw, &rec)

	code := resp.Code()
	outcome := string(code)
	if code == "" {
		outcome = "OK"
	}
	line := func(ev *zerolog.Event) {
		ev = ev.Str("origin", truncate(rawOrigin, 200)).Str("op", truncate(rec.op, 32)).
			Str("id", truncate(resp.ID, protocol.MaxID)).Str("outcome", outcome).
			Int64("duration_ms", time.Since(start).Milliseconds())
		if rec.cert != "" {
			ev = ev.Str("cert", rec.cert[:16])
		}
		if rec.count > 1 {
			ev = ev.Int("count", rec.count)
		}
		ev.Msg("request")
	}
	line(e.o.Log.Info())
	if e.o.Audit != nil && audited(rec.op, code) {
		line(e.o.Audit.Info())
	}

	out, err := json.Marshal(resp)
	if err != nil || len(out) > protocol.MaxMessage {
		// A result cannot be this large for any valid request (1000
		// signatures of 16 kbit RSA still fit), so this is a bug.
		ref := newRef()
		e.o.Log.Error().Str("ref", ref).Err(err).Int("size", len(out)).Msg("response too large or not encodable")
		out, _ = json.Marshal(protocol.Response{ID: resp.ID, Error: &protocol.Error{Code: protocol.Internal, Message: e.message(&failure{code: protocol.Internal, args: []any{"ref " + ref}})}})
	}
	return out
}

func (e *Engine) handle(ctx context.Context, rawOrigin string, raw []byte, rec *logRec) (resp protocol.Response) {
	var req request
	defer func() {
		if r := recover(); r != nil {
			ref := newRef()
			e.o.Log.Error().Str("ref", ref).Interface("panic", r).Msg("engine panic")
			resp = protocol.Response{ID: req.ID, Error: &protocol.Error{Code: protocol.Internal, Message: e.message(&failure{code: protocol.Internal, args: []any{"ref " + ref}})}}
		}
	}()
	req, f := parseRequest(raw)
	rec.op, rec.id = req.Op, req.ID
	if f != nil {
		return e.failResp(req.ID, f)
	}
	result, err := e.dispatch(ctx, rawOrigin, req, rec)
	if err != nil {
		return e.failResp(req.ID, err)
	}
	b, err := json.Marshal(result)
	if err != nil {
		return e.failResp(req.ID, err)
	}
	return protocol.Response{ID: req.ID, OK: true, Result: b}
}

func (e *Engine) dispatch(ctx context.Context, rawOrigin string, req request, rec *logRec) (any, error) {
	pol, err := e.policy()
	if err != nil {
		return nil, &failure{code: protocol.OriginDenied, msg: &messages.PolicyBroken, cause: err}
	}
	o, err := parseOrigin(rawOrigin)
	if err != nil {
		return nil, &failure{code: protocol.OriginDenied, args: []any{truncate(rawOrigin, 100)}, cause: err}
	}
	d := pol.decide(o)
	if d == denied {
		return nil, fail(protocol.OriginDenied, o.String())
	}
	switch req.Op {
	case "version":
		if f := decodeStrict(req.Params, &struct{}{}, "params: "); f != nil {
			return nil, f
		}
		return versionResult{Version: Version, Protocol: Protocol}, nil
	case "getCertificate":
		var p getCertificateParams
		if f := decodeStrict(req.Params, &p, "params: "); f != nil {
			return nil, f
		}
		issuer := ""
		if p.Filter != nil {
			issuer = p.Filter.Issuer
			if f := checkText("filter.issuer", issuer, maxFilter); f != nil {
				return nil, f
			}
		}
		return e.interactive(ctx, pol, o, d, func(ctx context.Context) (any, error) {
			return e.getCertificate(ctx, o, issuer, rec)
		})
	case "sign", "signBatch":
		job, f := parseSign(req.Params, req.Op == "signBatch")
		if f != nil {
			return nil, f
		}
		rec.cert, rec.count = job.certID, len(job.hashes)
		return e.interactive(ctx, pol, o, d, func(ctx context.Context) (any, error) {
			return e.sign(ctx, pol, o, job)
		})
	}
	return nil, fail(protocol.UnknownOp, truncate(req.Op, 64))
}

type versionResult struct {
	Version  string `json:"version"`
	Protocol int    `json:"protocol"`
}

// interactive runs an operation that may open dialogs: at most one at a time
// through o.Gate (BUSY, no queueing), under the user timeout, after the
// origin's approval when it is not allowed yet.
func (e *Engine) interactive(parent context.Context, pol *policy, o origin, d decision, run func(context.Context) (any, error)) (any, error) {
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
	e.dismissed = false
	ctx, cancel := context.WithTimeout(parent, e.o.UserTimeout)
	defer cancel()

	result, err := func() (any, error) {
		if d == approvable {
			a, err := e.o.Prompter.ApproveOrigin(ctx, o.String())
			if err != nil {
				e.noteDismissed(ctx, err)
				return nil, err
			}
			switch a {
			case prompt.AllowOnce:
				// Once means this one operation: the next request asks again.
			case prompt.AllowAlways:
				if err := saveApproval(e.o.Paths.Approvals, o.String(), e.o.Now()); err != nil {
					// The person said yes; go on, and say why it will ask again.
					e.o.Log.Error().Err(err).Str("origin", o.String()).Msg("saving the approval failed")
				}
				e.policyChanged()
			default:
				return nil, prompt.ErrCancelled
			}
		}
		return run(ctx)
	}()
	if err == nil {
		return result, nil
	}
	if errors.Is(err, prompt.ErrCancelled) {
		e.recordDecline(o.String())
		if d == approvable {
			e.recordDecline(approvalKey)
		}
		return nil, fail(protocol.UserCancelled)
	}
	if ctx.Err() != nil && !isFailure(err) {
		if parent.Err() != nil {
			// The connection closed: nobody reads this answer. A page that
			// closed it under an open dialog flashed that dialog at the
			// person; it counts as a cancelled prompt, so that it cannot
			// be done in a loop.
			if e.dismissed {
				e.recordDecline(o.String())
				if d == approvable {
					e.recordDecline(approvalKey)
				}
			}
			return nil, &failure{code: protocol.UserCancelled, cause: parent.Err()}
		}
		return nil, &failure{code: protocol.Timeout, cause: err}
	}
	return nil, err
}

// noteDismissed records that a dialog returned err because ctx ended.
// Callers hold busy.
func (e *Engine) noteDismissed(ctx context.Context, err error) {
	if err != nil && ctx.Err() != nil {
		e.dismissed = true
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
		e.o.Log.Error().Err(err).Str("origin", truncate(origin, 200)).Msg("recording a declined prompt failed")
	}
}

// failResp turns any error into the wire Error, logging what must be.
func (e *Engine) failResp(id string, err error) protocol.Response {
	var f *failure
	var te *token.Error
	switch {
	case errors.As(err, &f):
	case errors.As(err, &te) && te.Code != token.PINIncorrect:
		f = &failure{code: te.Code, detail: te.Detail, cause: err}
		if te.Code == protocol.UnsupportedAlgorithm {
			f.args = []any{te.Error()}
		}
	default:
		f = &failure{code: protocol.Internal, cause: err}
	}
	if f.code == protocol.Internal {
		ref := newRef()
		e.o.Log.Error().Str("ref", ref).Str("id", truncate(id, protocol.MaxID)).Err(f.cause).Msg("internal error")
		f.args = []any{"ref " + ref}
	} else if f.cause != nil {
		e.o.Log.Debug().Str("id", truncate(id, protocol.MaxID)).Str("code", string(f.code)).Err(f.cause).Msg("request failed")
	}
	out := &protocol.Error{Code: f.code, Message: e.message(f)}
	if f.code == protocol.TokenError {
		out.Detail = f.detail
		if out.Detail == "" {
			out.Detail = "CKR_GENERAL_ERROR"
		}
	}
	return protocol.Response{ID: id, Error: out}
}

func newRef() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func truncate(s string, n int) string {
	if len(s) <= n { // no more bytes than n: no more runes either
		return s
	}
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

// message is the people-facing text of a failure from Kyso's one message
// table, in the user's language, followed by the
// technical particulars (which field, which origin, the log reference) in
// parentheses: those are for the portal developer and not translated.
func (e *Engine) message(f *failure) string {
	m := messages.Error(f.code)
	if f.msg != nil {
		m = *f.msg
	}
	s := m.In(e.o.Lang)
	if len(f.args) > 0 {
		s += " (" + fmt.Sprint(f.args...) + ")"
	}
	return s
}
