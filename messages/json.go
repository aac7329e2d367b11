package messages

import (
	"bytes"
	"encoding/json"

	"kyso.vn/kyso/protocol"
)

//go:generate go run ./genjson ../extension/messages.json

// JSON is extension/messages.json, the error messages kyso.js shows:
// {"vi": {CODE: text}, "en": {CODE: text}} for every code the agent answers
// with and the codes kyso.js adds. It is generated from this table (go
// generate ./messages), so the page says what the agent would; a test fails
// when the committed file is stale.
func JSON() []byte {
	vi, en := map[protocol.Code]string{}, map[protocol.Code]string{}
	for _, codes := range [][]protocol.Code{protocol.Codes, protocol.ClientCodes} {
		for _, c := range codes {
			vi[c], en[c] = Error(c).VI, Error(c).EN
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(struct {
		VI map[protocol.Code]string `json:"vi"`
		EN map[protocol.Code]string `json:"en"`
	}{vi, en}); err != nil {
		panic(err) // strings only: cannot fail
	}
	return b.Bytes()
}
