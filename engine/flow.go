package engine

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"kyso.vn/kyso/document"
	"kyso.vn/kyso/messages"
	"kyso.vn/kyso/prompt"
	"kyso.vn/kyso/protocol"
	"kyso.vn/kyso/token"
)

// The signing flow: sign, signBatch and the document operations are each a
// Job, which signJob runs, in this order —
//
//  1. open the key of the job's certificate; with no token present, the
//     "plug in your token" window, watching for it (waitForToken);
//  2. check the scheme against the key;
//  3. Prepare: the job says what the token signs and what the dialogs show;
//  4. the person's consent, for this operation: the PIN dialog, or on a
//     token with a PIN pad the "enter the PIN on the reader" window while
//     the token waits for it, or — the token still logged in from an
//     earlier PIN (pinCacheSeconds) — the confirmation dialog. No
//     signature is made without one of them answered;
//  5. every digest signed, each signature verified with the certificate's
//     public key before it is kept; after progressAfter, the progress
//     window and the page's progress messages (report);
//  6. Finish builds the result from the signatures.
//
// Every dialog has the person's time limit; the token has none. A call
// into the token runs on the operation's runner, so that the page going
// away or the person's Cancel ends the operation even when the token
// hangs.

// Job is one signing operation for signJob. A document operation (signPdf,
// signCms, signXml) is a Job whose Prepare turns its documents into
// digests and whose Finish builds the signed documents.
type Job struct {
	CertID      string       // the certificate whose key signs: 64 lowercase hex
	Scheme      token.Scheme // as the page asked; "" = the key's default
	Description string       // the page's text, shown marked as unverified
	// Prepare is called once the key is open and its scheme chosen, before
	// the person is asked: what the token signs, what the dialogs show,
	// and how the result is built. Its error is answered as it is (a
	// *document.Error as its code, a *failure as its code, anything else
	// INTERNAL).
	Prepare func(ctx context.Context, s Signer) (*Plan, error)
}

// Signer is what Prepare knows of who signs.
type Signer struct {
	Certificate token.Certificate // with the chain found on its token
	Scheme      token.Scheme      // the scheme every signature is made with
	Time        time.Time         // the engine's clock: the claimed signing time
}

// Plan is a prepared signing operation.
type Plan struct {
	Hash      token.HashFunc     // of every digest
	Digests   [][]byte           // what the token signs, in order: 1–1000
	Documents []document.Summary // what the dialogs show of each document; none for bare hashes
	// Finish builds the result from the signatures (one per digest, in
	// order, each verified) after the last one is made. Its error is
	// answered as Prepare's.
	Finish func(ctx context.Context, signatures [][]byte) (any, error)
}

// plugInPoll is how often the plug-in window looks for the token:
// C_GetSlotList about twice a second (docs/tokens.md, Decisions).
const plugInPoll = 500 * time.Millisecond

// signJob runs job for op (see the flow above). An expired certificate
// signs like any other: the person picked it knowingly (the picker marks
// it) and the relying party judges validity.
func (e *Engine) signJob(ctx context.Context, op *operation, pol *policy, job Job) (_ any, err error) {
	var key token.Key
	err = e.waitForToken(ctx, op, func(ctx context.Context) (err error) {
		key, err = e.o.Provider.Open(ctx, job.CertID)
		return err
	})
	if err != nil {
		return nil, err
	}
	op.key = key
	window := time.Duration(pol.PinCacheSeconds) * time.Second
	cacheKey := op.origin.String() + "\x00" + job.CertID
	defer func() {
		if err != nil {
			// A failed operation logs out and forgets the window.
			op.keep = 0
			e.forgetPIN(cacheKey)
		}
	}()
	cert := key.Certificate()
	scheme, err := pickScheme(cert.Cert, job.Scheme)
	if err != nil {
		return nil, err
	}
	plan, err := job.Prepare(ctx, Signer{Certificate: cert, Scheme: scheme, Time: e.o.Now()})
	if err != nil {
		return nil, err
	}
	if len(plan.Digests) == 0 || len(plan.Digests) > maxBatch {
		return nil, fmt.Errorf("engine: a plan of %d digests", len(plan.Digests))
	}
	desc := prompt.Operation{
		Origin:      op.origin.String(),
		Holder:      holder(cert.Cert),
		Token:       cert.Token.Label,
		Description: job.Description,
		Count:       len(plan.Digests),
		Documents:   plan.Documents,
	}

	// Consent: a confirmation when the token is still logged in from a PIN
	// given for this origin and certificate, else the PIN.
	pinAt, fresh := e.pinFresh(cacheKey, window)
	loggedIn := false
	if fresh {
		if err := op.token(ctx, func() error { loggedIn = key.LoggedIn(); return nil }); err != nil {
			return nil, err
		}
	}
	if loggedIn {
		err = op.ask(ctx, func(ctx context.Context) error { return e.o.Prompter.Confirm(ctx, desc) })
	} else {
		err = e.login(ctx, op, key, desc)
		pinAt = e.o.Now()
		if err == nil && window > 0 {
			e.rememberPIN(cacheKey, pinAt)
		}
	}
	if err != nil {
		return nil, err
	}

	sigs, err := e.signAll(ctx, op, key, desc, plan, scheme)
	if err != nil {
		return nil, err
	}
	if window > 0 {
		// The token stays logged in only until the window opened by the
		// PIN ends, not for a fresh window after each use.
		op.keep = window - e.o.Now().Sub(pinAt)
	}
	if plan.Finish == nil {
		return sigs, nil
	}
	return plan.Finish(ctx, sigs)
}

// signAll signs every digest of plan on op's runner and verifies each
// signature, and stops at the next signature when the page goes away or
// the person cancels in the progress window: then nothing is returned.
// The checks run beside the token, on a goroutine of their own, while it
// makes the next signature: they cost no time beside a token's signature
// (on SoftHSM, a check is 5% of one). The result waits for every check.
func (e *Engine) signAll(ctx context.Context, op *operation, key token.Key, desc prompt.Operation, plan *Plan, scheme token.Scheme) ([][]byte, error) {
	cert := key.Certificate().Cert
	rep, sctx := op.report(ctx, desc, len(plan.Digests))
	sigs := make([][]byte, 0, len(plan.Digests))
	type made struct {
		i   int
		sig []byte
	}
	toCheck := make(chan made, 64)
	var bad atomic.Pointer[failure]
	checked := make(chan struct{})
	go func() {
		defer close(checked)
		for m := range toCheck {
			if bad.Load() != nil {
				continue
			}
			if err := verifySignature(cert, plan.Hash, scheme, plan.Digests[m.i], m.sig); err != nil {
				// Never the bad bytes, nor in the log: a faulty RSA-CRT
				// signature gives the key away.
				bad.Store(&failure{code: protocol.TokenError, detail: DetailFaultySignature, msg: &messages.TokenFaulty,
					cause: fmt.Errorf("signature %d of %d does not verify: %w", m.i+1, len(plan.Digests), err)})
			}
		}
	}()
	err := op.token(sctx, func() error {
		defer close(toCheck)
		for i, d := range plan.Digests {
			if sctx.Err() != nil {
				return context.Cause(sctx)
			}
			if bad.Load() != nil {
				return nil // a faulty one: no more from this token
			}
			sig, err := key.Sign(sctx, d, plan.Hash, scheme)
			if err != nil {
				return err
			}
			sigs = append(sigs, sig)
			toCheck <- made{i, sig}
			rep.done.Store(int64(i + 1))
		}
		return nil
	})
	cancelled := errors.Is(context.Cause(sctx), errProgressCancelled)
	rep.end()
	switch {
	case cancelled:
		op.declined = true
		return nil, fail(protocol.UserCancelled)
	case err != nil:
		// The checks end with the call (maybe later, if it hangs).
		return nil, err
	}
	<-checked
	if f := bad.Load(); f != nil {
		return nil, f
	}
	return sigs, nil
}

// login gets the token logged in for op: the PIN dialog, or on a token
// with a PIN pad the pad's window while the token waits for the PIN. A
// wrong PIN asks again, saying so and how many tries are left; it is never
// retried automatically. A typed PIN is wiped once the login call returns.
func (e *Engine) login(ctx context.Context, op *operation, key token.Key, desc prompt.Operation) error {
	var st token.PINState
	pad := false
	if err := op.token(ctx, func() (err error) {
		pad = key.ProtectedPath()
		st, err = key.PINState()
		return err
	}); err != nil {
		return err
	}
	retry := false
	for {
		if st.Locked {
			return fail(protocol.PINLocked)
		}
		req := prompt.PINRequest{Operation: desc, Retry: retry, CountLow: st.CountLow, FinalTry: st.FinalTry}
		var err error
		if pad {
			err = e.padLogin(ctx, op, key, req)
		} else {
			err = e.typedLogin(ctx, op, key, req)
		}
		var te *token.Error
		switch {
		case err == nil:
			return nil
		case errors.Is(err, errEmptyPIN):
			retry = true
		case errors.As(err, &te) && te.Code == token.PINIncorrect:
			st, retry = te.PIN, true
		case errors.As(err, &te) && te.Code == protocol.UserCancelled:
			// Cancel on the PIN pad (or its own time-out).
			op.declined = true
			return fail(protocol.UserCancelled)
		default:
			return err
		}
	}
}

// errEmptyPIN: the PIN dialog gave an empty PIN, which would only spend
// one of the token's tries.
var errEmptyPIN = errors.New("engine: empty PIN")

// typedLogin asks for the PIN and logs in with it. The login runs under a
// reporter, so that a token slow (or stuck) in it shows the progress
// window, which the person can cancel.
func (e *Engine) typedLogin(ctx context.Context, op *operation, key token.Key, req prompt.PINRequest) error {
	var pin []byte
	if err := op.ask(ctx, func(ctx context.Context) (err error) {
		pin, err = e.o.Prompter.PIN(ctx, req)
		return err
	}); err != nil {
		wipe(pin)
		return err
	}
	if len(pin) == 0 {
		return errEmptyPIN
	}
	rep, lctx := op.report(ctx, req.Operation, req.Count)
	err := op.token(lctx, func() error {
		defer wipe(pin) // here: after the call, however long it takes
		return key.Login(pin)
	})
	cancelled := errors.Is(context.Cause(lctx), errProgressCancelled)
	rep.end()
	if cancelled {
		op.declined = true
		return fail(protocol.UserCancelled)
	}
	return err
}

// padLogin shows the PIN pad window and logs in without a PIN while it is
// open: the person types the PIN on the reader. The window has the
// person's time limit; Cancel in it stops waiting for the token.
func (e *Engine) padLogin(ctx context.Context, op *operation, key token.Key, req prompt.PINRequest) error {
	return op.ask(ctx, func(ctx context.Context) error {
		w, err := e.o.Prompter.PINPad(ctx, req)
		if err != nil {
			return err
		}
		defer w.Close()
		err = op.tokenOr(ctx, w.Done(), func() error { return key.Login(nil) })
		if errors.Is(err, errStopped) {
			return w.Err()
		}
		return err
	})
}

// waitForToken runs look, a call into the token that needs one present.
// When it finds none (NO_TOKEN), the "plug in your token" window asks the
// person for one while look runs again every plugInPoll, until it finds
// what it needs (it returns nil): the operation goes on by itself. While
// it waits, a token without what is needed (CERTIFICATE_NOT_FOUND,
// NO_CERTIFICATE) is waited past too. The window has the person's time
// limit; Cancel or the time running out answers what the last look said
// (NO_TOKEN when no token is in), and counts as declined.
func (e *Engine) waitForToken(ctx context.Context, op *operation, look func(context.Context) error) error {
	err := op.token(ctx, func() error { return look(ctx) })
	if codeOf(err) != protocol.NoToken {
		return err
	}
	dctx, cancel := context.WithTimeout(ctx, e.o.UserTimeout)
	defer cancel()
	w, werr := e.o.Prompter.PlugIn(dctx, op.origin.String())
	if werr != nil {
		return op.dialogEnd(ctx, dctx, werr)
	}
	defer w.Close()
	tick := time.NewTicker(plugInPoll)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-w.Done():
			return stillNoToken(err, op.dialogEnd(ctx, dctx, w.Err()))
		case <-dctx.Done():
			return stillNoToken(err, op.dialogEnd(ctx, dctx, dctx.Err()))
		}
		err = op.tokenOr(dctx, w.Done(), func() error { return look(dctx) })
		switch codeOf(err) {
		case protocol.NoToken, protocol.CertificateNotFound, protocol.NoCertificate:
			continue
		}
		switch {
		case errors.Is(err, errStopped):
			return stillNoToken(err, op.dialogEnd(ctx, dctx, w.Err()))
		case dctx.Err() != nil && !isTokenError(err) && !isFailure(err):
			return stillNoToken(err, op.dialogEnd(ctx, dctx, err))
		}
		return err
	}
}

// stillNoToken is the answer when the person cancels the plug-in window or
// its time runs out: what the last look found (NO_TOKEN, or a token
// without the certificate), as DESIGN says — not USER_CANCELLED or
// TIMEOUT. The page going away and a window that failed keep their own.
func stillNoToken(last, end error) error {
	if f, ok := end.(*failure); ok && (f.code == protocol.UserCancelled || f.code == protocol.Timeout) {
		if c := codeOf(last); c == protocol.CertificateNotFound || c == protocol.NoCertificate {
			return fail(c)
		}
		return &failure{code: protocol.NoToken, cause: end}
	}
	return end
}

// codeOf is the protocol code of a token or engine failure, "" otherwise.
func codeOf(err error) protocol.Code {
	var te *token.Error
	var f *failure
	switch {
	case errors.As(err, &f):
		return f.code
	case errors.As(err, &te):
		return te.Code
	}
	return ""
}

// signJobOf is the Job of sign and signBatch: the page's hashes, and the
// signatures as the result.
func signJobOf(j signJob) Job {
	return Job{
		CertID:      j.certID,
		Scheme:      j.scheme,
		Description: j.description,
		Prepare: func(_ context.Context, s Signer) (*Plan, error) {
			return &Plan{Hash: j.hashFunc, Digests: j.hashes, Finish: func(_ context.Context, sigs [][]byte) (any, error) {
				enc := make([]string, len(sigs))
				for i, s := range sigs {
					enc[i] = base64.StdEncoding.EncodeToString(s)
				}
				if j.batch {
					return signBatchResult{Signatures: enc, Scheme: s.Scheme, HashFunction: j.hashFunc}, nil
				}
				return signResult{Signature: enc[0], Scheme: s.Scheme, HashFunction: j.hashFunc}, nil
			}}, nil
		},
	}
}
