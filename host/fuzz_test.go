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
// request object whose id (1–64 characters) is the one the relay reads and
// the one the in-process engine echoes; what it refuses is answered with a
// valid JSON error carrying "" or a valid id.
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
		origin, req, id, bad := parseEnvelope(msg)
		if bad != nil {
			if id != "" && !validID(id) {
				t.Fatalf("%q: refused (%s) with id %q", msg, bad.EN, id)
			}
			var r struct {
				ID    *string
				OK    bool
				Error struct{ Code string }
			}
			out := errorResponse(id, protocol.BadRequest, *bad)
			if json.Unmarshal(out, &r) != nil || r.ID == nil || *r.ID != id || r.OK || protocol.Code(r.Error.Code) != protocol.BadRequest {
				t.Fatalf("error answer %s", out)
			}
			return
		}
		if !validID(id) || !json.Valid(req) {
			t.Fatalf("%q: accepted with id %q, request %q", msg, id, req)
		}
		// The relay reads the id as a map key (relay.go).
		var fields map[string]json.RawMessage
		var relayID string
		if json.Unmarshal(req, &fields) != nil || json.Unmarshal(fields["id"], &relayID) != nil || relayID != id {
			t.Fatalf("%q: host id %q, relay id %q", msg, id, relayID)
		}
		// The in-process engine answers with the same id.
		eng, err := engine.New(engine.Options{Provider: noTokens{}, Prompter: prompttest.New(),
			Log: zerolog.New(io.Discard), Lang: "en"})
		if err != nil {
			t.Fatal(err)
		}
		var ans struct{ ID string }
		out := eng.Handle(context.Background(), origin, req)
		if json.Unmarshal(out, &ans) != nil || ans.ID != id {
			t.Fatalf("%q: host id %q, engine answered %s", msg, id, out)
		}
	})
}

func validID(id string) bool {
	n := utf8.RuneCountInString(id)
	return n >= 1 && n <= 64
}
