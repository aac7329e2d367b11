// Package wire holds the bits of protocol v1 that the front-ends (agent,
// host) build themselves, for the errors they find before the engine sees a
// request. It has no cgo and no engine dependency, so the agent can be built
// and vetted for every OS without a C toolchain.
package wire

import (
	"encoding/json"
	"fmt"
)

// ErrorResponse is a protocol v1 failure:
// {"id":…,"ok":false,"error":{"code":…,"message":…}}.
func ErrorResponse(id, code, message string) []byte {
	type errorBody struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	b, err := json.Marshal(struct {
		ID    string    `json:"id"`
		OK    bool      `json:"ok"`
		Error errorBody `json:"error"`
	}{ID: id, Error: errorBody{code, message}})
	if err != nil { // cannot happen with strings
		panic(fmt.Sprintf("wire: marshal error response: %v", err))
	}
	return b
}
