// Package engine is the one engine behind both front-ends (the WebSocket
// agent and the native-messaging host): protocol v1 parsing and validation,
// origin policy, and the operations, which talk to tokens through
// token.Provider and to the person through prompt.Prompter.
//
// By concern: engine.go takes a request and gives its answer (and its log
// line); protocol.go parses and validates requests; decide.go is the policy
// decision for an origin; interactive.go an operation that opens dialogs
// (gate, rate limit, approval, each dialog's time, how a dialog ended);
// flow.go the signing flow every signing operation is a Job of (open the
// key or wait for the token, consent, sign, verify, finish); runner.go the
// calls into the token an operation can stop waiting for; progress.go the
// progress window and messages; verify.go the check of every signature;
// ops.go getCertificate and the sign results; errors.go failures and their
// messages; settings.go, origin.go and approvals.go the policy files.
package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/internal/audit"
	"kyso.vn/kyso/internal/logging"
	"kyso.vn/kyso/messages"
	"kyso.vn/kyso/prompt"
	"kyso.vn/kyso/protocol"
	"kyso.vn/kyso/token"
)

// Version is the Kyso version, stamped by the linker (-X).
var Version = "0.0.0-dev"

// DefaultUserTimeout is Options.UserTimeout's default.
const DefaultUserTimeout = 120 * time.Second

// Options wires an Engine.
type Options struct {
	Provider token.Provider
	Prompter prompt.Prompter
	Paths    Paths // where the policy, config and approvals live
	Log      zerolog.Logger
	// Audit, when set, gets the record of every request that a person or
	// a token took part in (see audited, audit.go): the signing record,
	// which a page cannot flush out of the logs by asking `version` in a
	// loop, and which `kyso history` shows.
	Audit *audit.Log

	// UserTimeout bounds each dialog: the person's time to answer it
	// (never the token's: signing has no time limit); 0 means
	// DefaultUserTimeout (120 s).
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

	// systemMayBeOurs lets the system policy belong to the account that
	// runs the engine, not only to the administrators: for this package's
	// tests when they do not run as root. DefaultPaths never sets it.
	systemMayBeOurs bool
}

// Engine answers protocol v1 requests. Safe for concurrent use.
type Engine struct {
	o Options

	polMu  sync.Mutex
	polSig [4]fileSig // the three files and the Group Policy key
	pol    *policy
	polErr error
	loaded bool

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
	return &Engine{o: o, pinAt: map[string]time.Time{}}, nil
}

// audited tells the requests of the signing record: the interactive
// operations that signed or gave a certificate, or ended in a person's or
// a token's answer. The others (version, refusals before any dialog: bad
// input, denied origin, BUSY, RATE_LIMITED, no token or certificate) a page
// can repeat at will, so they go to the main log only.
func audited(op string, code protocol.Code) bool {
	switch op {
	case "getCertificate", "sign", "signBatch", "signPdf", "signCms", "signXml":
	default:
		return false
	}
	switch code {
	// TIMESTAMP_FAILED comes after the token signed.
	case "", protocol.UserCancelled, protocol.TimestampFailed, protocol.Timeout, protocol.PINLocked, protocol.TokenRemoved, protocol.TokenError, protocol.Internal, protocol.NoDialog:
		return true
	}
	return false
}

// logRec collects what the request's one log line and its audit record
// say; the operation fills it in as it learns.
type logRec struct {
	op, id, cert string
	count        int
	origin       string // the origin as parsed, once it is
	subject      string // the certificate's holder, when known
	// What was to be signed, in full (the hashes, or the documents once
	// they are prepared), and the page's description.
	items       []audit.Item
	description string
}

// Handle answers one raw request from origin (ParseRequest, then Answer).
// Of a document operation's raw the engine keeps no reference once it has
// read the documents from it (Request.drop); the caller should keep none
// either, so that the collector may take it while the document is signed.
func (e *Engine) Handle(ctx context.Context, rawOrigin string, raw []byte, progress Progress) []byte {
	return e.Answer(ctx, rawOrigin, ParseRequest(raw), progress)
}

// Answer answers one parsed request from origin. ctx ends when the caller's
// connection closes, which cancels the operation and closes its dialog.
// progress, when not nil, gets the request's progress messages while a
// long operation signs (see Progress), all before Answer returns.
// The engine is where a panic is recovered, for every front-end: it is a
// bug, logged with a reference and answered INTERNAL, and the process goes
// on serving.
func (e *Engine) Answer(ctx context.Context, rawOrigin string, req Request, progress Progress) (out []byte) {
	start := time.Now()
	rec := logRec{op: req.Op, id: req.ID}
	var resp protocol.Response
	defer func() {
		if r := recover(); r != nil {
			ref := newRef()
			e.o.Log.Error().Str("ref", ref).Interface("panic", r).Msg("engine panic")
			resp = e.internal(req.ID, ref)
			out, _ = json.Marshal(resp)
		}
		e.logRequest(rawOrigin, start, rec, resp)
	}()
	resp, out = e.respond(ctx, rawOrigin, &req, progress, &rec)
	var err error
	if out == nil {
		out, err = marshal(resp)
	}
	if err != nil || len(out) > protocol.MaxMessage && !(resp.OK && protocol.IsDocumentOp(req.Op)) {
		// A result cannot be this large for any valid request (1000
		// signatures of 16 kbit RSA still fit), so this is a bug. The
		// document operations answer with what they produced (a signed
		// document is larger than the one given): the transports carry it.
		ref := newRef()
		e.o.Log.Error().Str("ref", ref).Err(err).Int("size", len(out)).Msg("response too large or not encodable")
		resp = e.internal(req.ID, ref)
		out, _ = json.Marshal(resp)
	}
	return out
}

// marshal is json.Marshal without the HTML escaping of <, > and &: an
// answer is never HTML, and a signed XML document, escaped, would be up to
// six times its size.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// logRequest writes the request's one line to the log, and to the signing
// record when it is audited.
func (e *Engine) logRequest(rawOrigin string, start time.Time, rec logRec, resp protocol.Response) {
	code := resp.Code()
	outcome := string(code)
	if code == "" {
		outcome = "OK"
	}
	line := func(ev *zerolog.Event) {
		ev = ev.Str("origin", logging.Truncate(rawOrigin, 200)).Str("op", logging.Truncate(rec.op, 32)).
			Str("id", logging.Truncate(resp.ID, protocol.MaxID)).Str("outcome", outcome).
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
		e.audit(rec, outcome)
	}
}

// respond runs req. A success comes with its answer already encoded
// (okAnswer); a failure without, for Answer to encode.
func (e *Engine) respond(ctx context.Context, rawOrigin string, req *Request, progress Progress, rec *logRec) (protocol.Response, []byte) {
	if req.fail != nil {
		return e.failResp(req.ID, req.fail), nil
	}
	result, err := e.dispatch(ctx, rawOrigin, req, opRequest{id: req.ID, progress: progress}, rec)
	if err != nil {
		return e.failResp(req.ID, err), nil
	}
	out, err := okAnswer(req.ID, result)
	if err != nil {
		return e.failResp(req.ID, err), nil
	}
	return protocol.Response{ID: req.ID, OK: true}, out
}

// rawResult is a result that writes its own JSON (a signed document): its
// base64 or text goes once into the answer's buffer, sized beforehand.
// Through json.Marshal a 30 MiB document would be a base64 string, that
// string encoded into a growing buffer, and the buffer copied again into
// the answer's envelope (which also re-validates it): several times the
// document held at once, and most of signPdf's time after the token.
type rawResult interface {
	size() int // the JSON's length in bytes, or a close estimate
	appendJSON(b []byte) []byte
}

// okAnswer is {"id":…,"ok":true,"result":…}, the bytes protocol.Response
// would marshal to.
func okAnswer(id string, result any) ([]byte, error) {
	idJSON, err := marshal(id)
	if err != nil {
		return nil, err
	}
	head := append(append([]byte(`{"id":`), idJSON...), `,"ok":true,"result":`...)
	if r, ok := result.(rawResult); ok {
		b := make([]byte, 0, len(head)+r.size()+1)
		return append(r.appendJSON(append(b, head...)), '}'), nil
	}
	res, err := marshal(result)
	if err != nil {
		return nil, err
	}
	return append(append(head, res...), '}'), nil
}

func (e *Engine) dispatch(ctx context.Context, rawOrigin string, req *Request, or opRequest, rec *logRec) (any, error) {
	pol, err := e.policy()
	if err != nil {
		return nil, &failure{code: protocol.OriginDenied, msg: &messages.PolicyBroken, cause: err}
	}
	o, err := parseOrigin(rawOrigin)
	if err != nil {
		return nil, &failure{code: protocol.OriginDenied, args: []any{logging.Truncate(rawOrigin, 100)}, cause: err}
	}
	rec.origin = o.String()
	d := pol.decide(o)
	if d == denied {
		return nil, fail(protocol.OriginDenied, o.String())
	}
	switch req.Op {
	case "version":
		if f := decodeStrict(req.Params, &struct{}{}, "params: "); f != nil {
			return nil, f
		}
		return versionResult{Version: Version, Protocol: protocol.Version, Ops: protocol.Ops}, nil
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
		return e.interactive(ctx, o, d, or, func(ctx context.Context, op *operation) (any, error) {
			return e.getCertificate(ctx, op, issuer, rec)
		})
	case "sign", "signBatch", "signCms":
		mode := oneHash
		switch req.Op {
		case "signBatch":
			mode = manyHashes
		case "signCms":
			mode = hashOrHashes
		}
		job, f := parseSign(req.Params, mode)
		if f != nil {
			return nil, f
		}
		rec.cert, rec.count, rec.description = job.certID, len(job.hashes), job.description
		rec.items = hashItems(job)
		if req.Op == "signCms" {
			return e.runJob(ctx, o, d, or, pol, rec, signCmsJob(job, timestamper(pol), rec))
		}
		return e.runJob(ctx, o, d, or, pol, rec, signJobOf(job))
	case "signPdf":
		r, f := parseSignPdf(req.Params)
		if f != nil {
			return nil, f
		}
		req.drop()
		rec.cert, rec.count, rec.description = r.certID, len(r.docs), r.description
		return e.runJob(ctx, o, d, or, pol, rec, signPdfJob(r, timestamper(pol), rec))
	case "signXml":
		r, f := parseSignXml(req.Params)
		if f != nil {
			return nil, f
		}
		req.drop()
		rec.cert, rec.count, rec.description = r.certID, len(r.docs), r.description
		return e.runJob(ctx, o, d, or, pol, rec, signXmlJob(r, rec))
	}
	return nil, fail(protocol.UnknownOp, logging.Truncate(req.Op, 64))
}

type versionResult struct {
	Version  string   `json:"version"`
	Protocol int      `json:"protocol"`
	Ops      []string `json:"ops"`
}

// runJob runs a signing job as an interactive operation, and records who
// signs (the certificate's holder) for the log and the signing record as
// soon as the key is open.
func (e *Engine) runJob(ctx context.Context, o origin, d decision, or opRequest, pol *policy, rec *logRec, job Job) (any, error) {
	prepare := job.Prepare
	job.Prepare = func(ctx context.Context, s Signer) (*Plan, error) {
		rec.subject = holder(s.Certificate.Cert)
		return prepare(ctx, s)
	}
	return e.interactive(ctx, o, d, or, func(ctx context.Context, op *operation) (any, error) {
		return e.signJob(ctx, op, pol, job)
	})
}
