// Package wire holds the bits of protocol v1 that the front-ends (agent,
// host) build themselves, for the errors they find before the engine sees a
// request. It has no cgo and no engine dependency, so the agent can be built
// and vetted for every OS without a C toolchain.
package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
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

// RequestID returns the id of a request that is a JSON object with a string
// "id" of 1–64 characters, as the engine reads it: the key spelled exactly
// "id" (encoding/json would match a struct field to "ID" or "Id" too).
// Front-ends use it to answer, with the page's id, the requests they refuse
// themselves; the host insists on it, so that every request it relays can
// be matched to its answer.
func RequestID(req []byte) (string, bool) {
	req = bytes.TrimSpace(req)
	if len(req) == 0 || req[0] != '{' {
		return "", false
	}
	var r map[string]json.RawMessage
	var id string
	if json.Unmarshal(req, &r) != nil || len(r["id"]) == 0 || r["id"][0] != '"' || json.Unmarshal(r["id"], &id) != nil {
		return "", false
	}
	if n := utf8.RuneCountInString(id); n < 1 || n > 64 {
		return "", false
	}
	return id, true
}

// Response is a protocol v1 response as a client reads it: the tests of
// every transport and the bench decode answers into it.
type Response struct {
	ID     string          `json:"id"`
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result"`
	Error  *ResponseError  `json:"error"`
}

// ResponseError is a Response's error.
type ResponseError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  string `json:"detail"`
}

// Code is the error's code, "" for a success.
func (r Response) Code() string {
	if r.Error == nil {
		return ""
	}
	return r.Error.Code
}
