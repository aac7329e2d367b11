package engine

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"kyso.vn/kyso/document"
	"kyso.vn/kyso/internal/logging"
	"kyso.vn/kyso/messages"
	"kyso.vn/kyso/protocol"
	"kyso.vn/kyso/token"
)

// failure is an error on its way to becoming an Error: code plus message
// arguments, and the cause for the log.
type failure struct {
	code   protocol.Code
	args   []any // for the message
	detail string
	cause  error
	msg    *messages.Text // the message when it is not the code's
}

func (f *failure) Error() string {
	s := string(f.code)
	if len(f.args) > 0 {
		s += fmt.Sprint(" ", f.args)
	}
	if f.cause != nil {
		s += ": " + f.cause.Error()
	}
	return s
}

func fail(code protocol.Code, args ...any) *failure { return &failure{code: code, args: args} }

func badRequest(format string, a ...any) *failure {
	return fail(protocol.BadRequest, fmt.Sprintf(format, a...))
}

// failResp turns any error into the wire Error, logging what must be.
func (e *Engine) failResp(id string, err error) protocol.Response {
	var f *failure
	var te *token.Error
	var de *document.Error
	switch {
	case errors.As(err, &f):
	case errors.As(err, &te) && te.Code != token.PINIncorrect:
		f = &failure{code: te.Code, detail: te.Detail, cause: err}
		if te.Code == protocol.UnsupportedAlgorithm {
			f.args = []any{te.Error()}
		}
	case errors.As(err, &de) && (de.Code == document.CodeBadDocument || de.Code == document.CodeTimestampFailed):
		// A document the page gave: its reason is for the portal's
		// developer, like a BAD_REQUEST's.
		f = &failure{code: protocol.Code(de.Code), args: []any{de.Reason}, cause: err}
	default:
		f = &failure{code: protocol.Internal, cause: err}
	}
	if f.code == protocol.Internal {
		ref := newRef()
		e.o.Log.Error().Str("ref", ref).Str("id", logging.Truncate(id, protocol.MaxID)).Err(f.cause).Msg("internal error")
		f.args = []any{"ref " + ref}
	} else if f.cause != nil {
		e.o.Log.Debug().Str("id", logging.Truncate(id, protocol.MaxID)).Str("code", string(f.code)).Err(f.cause).Msg("request failed")
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

// internal is the INTERNAL answer of a bug, with the log's reference.
func (e *Engine) internal(id, ref string) protocol.Response {
	f := &failure{code: protocol.Internal, args: []any{"ref " + ref}}
	return protocol.Response{ID: id, Error: &protocol.Error{Code: protocol.Internal, Message: e.message(f)}}
}

func newRef() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
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
