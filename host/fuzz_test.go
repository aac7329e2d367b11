package host

// Fuzz target of issue 8 (docs/fuzzing.md): the host's own decoder of the
// extension's {"origin", "request"} messages.

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/engine"
	"kyso.vn/kyso/prompt/prompttest"
	"kyso.vn/kyso/protocol"
	"kyso.vn/kyso/token"
)

// noTokens is a Provider with no token present.
type noTokens struct{}

func (noTokens) Certificates(context.Context) ([]token.Certificate, error) {
	return nil, &token.Error{Code: protocol.NoToken}
}

func (noTokens) Open(context.Context, string) (token.Key, error) {
	return nil, &token.Error{Code: protocol.NoToken}
}

// FuzzParseEnvelope: parseEnvelope never panics; what it accepts carries a
// request whose id (1–64 characters) the engine echoes, and which the
// engine answers alike whether it gets the request read by the host
// (in-process) or the raw request (the agent, through the relay); what it
// refuses is answered with a valid JSON error carrying "" or a valid id.
func FuzzParseEnvelope(f *testing.F) {
	for _, s := range []string{
		`{"origin":"https://dichvucong.example.gov.vn","request":{"id":"r1","op":"version"}}`,
		`{"origin":"https://a.gov.vn","request":{"id":"r1","op":"sign","params":{"hash":"AAAA"}}}`,
		`{"origin":"https://a.gov.vn","request":{"id":"","op":"version"}}`,
		`{"origin":"https://a.gov.vn","request":{"id":7}}`,
		`{"origin":"https://a.gov.vn","request":[1]}`,
		`{"request":{"id":"r1","op":"version"}}`,
		`{"origin":null,"request":{"id":"r1"}}`,
		`{"origin":"https://a.gov.vn","request":{"Id":"x","op":"version"}}`,
		`{"origin":"https://a.gov.vn","request":{"id":"a","ID":"b","op":"version"}}`,
		`{"origin":"https://a.gov.vn","request":{"id":"a","id":"b"}}`,
		`{"origin":"https://a.gov.vn","request":{"id":"` + strings.Repeat("ố", 64) + `"}}`,
		"{\"origin\":\"https://a.gov.vn\",\"request\":{\"id\":\"\xff\"}}",
		`{"origin":"https://a.gov.vn","request":{"id":"\ud800"}}`,
		`not json`, ``, `null`, `{"origin":"x","request":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		origin, req, bad := parseEnvelope(msg)
		if bad != nil {
			if req.ID != "" && !validID(req.ID) {
				t.Fatalf("%q: refused (%s) with id %q", msg, bad.EN, req.ID)
			}
			var r protocol.Response
			out := errorResponse(req.ID, protocol.BadRequest, *bad)
			if json.Unmarshal(out, &r) != nil || r.ID != req.ID || r.OK || r.Code() != protocol.BadRequest {
				t.Fatalf("error answer %s", out)
			}
			return
		}
		if !validID(req.ID) || !json.Valid(req.Raw) {
			t.Fatalf("%q: accepted with id %q, request %q", msg, req.ID, req.Raw)
		}
		// What the host read once is what the agent's engine reads from the
		// raw request the relay hands on: the same answer either way, with
		// the host's id. (A fresh engine: the rate limit counts across calls.)
		eng, err := engine.New(engine.Options{Provider: noTokens{}, Prompter: prompttest.New(),
			Log: zerolog.New(io.Discard), Lang: "en"})
		if err != nil {
			t.Fatal(err)
		}
		var once, again protocol.Response
		a := eng.Answer(context.Background(), origin, req, nil)
		b := eng.Handle(context.Background(), origin, req.Raw, nil)
		if json.Unmarshal(a, &once) != nil || json.Unmarshal(b, &again) != nil ||
			once.ID != req.ID || again.ID != req.ID || once.OK != again.OK || once.Code() != again.Code() {
			t.Fatalf("%q: host id %q, answered %s, then %s", msg, req.ID, a, b)
		}
	})
}

func validID(id string) bool {
	n := utf8.RuneCountInString(id)
	return n >= 1 && n <= 64
}
