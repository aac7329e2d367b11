package engine

import (
	"strings"
	"testing"

	"kyso.vn/kyso/protocol"
)

// What decodeStrict tells a page about a request it refuses: the rule
// broken and where. The wording comes from reading encoding/json/v2's
// errors, so a change of that library shows here first.
func TestStrictMessages(t *testing.T) {
	for _, c := range []struct{ raw, want string }{
		{`{"id":"a","op":"sign","params":{"hash":42}}`, `params: "hash" has the wrong type (number)`},
		{`{"id":"a","op":"sign","params":{"hashfunction":"SHA-256"}}`, `params: unknown field "hashfunction"`},
		{`{"id":"a","ID":"b","op":"version"}`, `unknown field "ID"`},
		{`{"id":"a","op":"version","op":"sign"}`, `key "op" given twice`},
		{`{"id":"a","op":"sign","params":{"certificateId":"x","certificateId":"y"}}`, `key "certificateId" given twice`},
		{`{"id":"a","op":"getCertificate","params":{"filter":{"Issuer":"x"}}}`, `params: unknown field "Issuer"`},
		{`{"id":"a","op":"version"} x`, "data after the JSON object"},
		{`{"id":"a","op":"version"}{}`, "data after the JSON object"},
		{`{"id":"a","op":"version"`, "not valid JSON"},
		{`{"id":"a","op":"version",}`, "not valid JSON"},
	} {
		r, f := parseRequest([]byte(c.raw))
		if f == nil {
			switch r.Op {
			case "sign":
				_, f = parseSign(r.Params, oneHash)
			case "getCertificate":
				f = decodeStrict(r.Params, &getCertificateParams{}, "params: ")
			}
		}
		if f == nil || f.code != protocol.BadRequest || !strings.Contains(f.Error(), c.want) {
			t.Errorf("%s: got %v, want BAD_REQUEST saying %q", c.raw, f, c.want)
		}
	}
}
