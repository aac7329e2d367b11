// Package protocol is protocol v1's vocabulary in one place (DESIGN.md,
// "Protocol v1", "Errors"): the error codes, the limits every transport
// applies, the default port, and the response as it travels. The engine
// answers with it, the front-ends (agent, host) build their own refusals
// with it, the tests and the bench read answers with it, and the message
// table and kyso.js's messages.json are keyed by its codes. Pure Go and
// standard library only: everything may import it.
package protocol

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Version is the protocol version this code speaks.
const Version = 1

// Limits of protocol v1.
const (
	MaxMessage = 1 << 20 // bytes of one request or response, on every transport
	MaxID      = 64      // characters of a request id
	// MaxDocumentMessage is the request limit of the document operations
	// (DocumentOps): a PDF or XML travels in the request, base64 or as
	// text. Their answers may be larger still (the signed document, in
	// base64): the transports carry what the engine produced.
	MaxDocumentMessage = 64 << 20
)

// Ops are the operations of protocol v1, as `version` lists them.
var Ops = []string{"version", "getCertificate", "sign", "signBatch", "signPdf", "signCms", "signXml"}

// IsDocumentOp tells the document operations (DESIGN.md, "Document
// operations"): signPdf, signCms and signXml.
func IsDocumentOp(op string) bool {
	switch op {
	case "signPdf", "signCms", "signXml":
		return true
	}
	return false
}

// MaxRequest is the largest request for op: MaxDocumentMessage for the
// document operations, MaxMessage for every other (and for an op not
// known). A transport that reads a message before it knows its op reads
// at most MaxDocumentMessage, then holds it to MaxRequest of its op.
func MaxRequest(op string) int {
	if IsDocumentOp(op) {
		return MaxDocumentMessage
	}
	return MaxMessage
}

// DefaultPort is the agent's WebSocket port when the settings name none.
const DefaultPort = 28418

// Code is an error code of protocol v1.
type Code string

// The error codes the agent answers with, in DESIGN.md's order.
const (
	BadRequest           Code = "BAD_REQUEST"
	UnknownOp            Code = "UNKNOWN_OP"
	OriginDenied         Code = "ORIGIN_DENIED"
	UserCancelled        Code = "USER_CANCELLED"
	Timeout              Code = "TIMEOUT"
	Busy                 Code = "BUSY"
	RateLimited          Code = "RATE_LIMITED"
	NoToken              Code = "NO_TOKEN"
	NoCertificate        Code = "NO_CERTIFICATE"
	CertificateNotFound  Code = "CERTIFICATE_NOT_FOUND"
	UnsupportedAlgorithm Code = "UNSUPPORTED_ALGORITHM"
	PINLocked            Code = "PIN_LOCKED"
	TokenRemoved         Code = "TOKEN_REMOVED"
	TokenError           Code = "TOKEN_ERROR"
	BadDocument          Code = "BAD_DOCUMENT"
	TimestampFailed      Code = "TIMESTAMP_FAILED"
	NoDialog             Code = "NO_DIALOG"
	Internal             Code = "INTERNAL"
)

// Codes lists every code the agent answers with.
var Codes = []Code{BadRequest, UnknownOp, OriginDenied, UserCancelled, Timeout, Busy, RateLimited,
	NoToken, NoCertificate, CertificateNotFound, UnsupportedAlgorithm, PINLocked, TokenRemoved,
	TokenError, BadDocument, TimestampFailed, NoDialog, Internal}

// Codes kyso.js adds on the page's side; the agent never answers them.
const (
	NotInstalled        Code = "NOT_INSTALLED"         // neither the extension nor the WebSocket answers
	LocalNetworkBlocked Code = "LOCAL_NETWORK_BLOCKED" // the browser kept the page from reaching loopback
)

// ClientCodes lists the codes kyso.js adds.
var ClientCodes = []Code{NotInstalled, LocalNetworkBlocked}

// Response is a protocol v1 response, as the engine writes it and clients
// (the tests of every transport, the bench) read it.
type Response struct {
	ID     string          `json:"id"`
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *Error          `json:"error,omitempty"`
}

// Error is a failed Response's error. Detail is the CKR_ name of a
// TOKEN_ERROR.
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
	Detail  string `json:"detail,omitempty"`
}

// Code is the error's code, "" for a success.
func (r Response) Code() Code {
	if r.Error == nil {
		return ""
	}
	return r.Error.Code
}

// ErrorResponse is a protocol v1 failure:
// {"id":…,"ok":false,"error":{"code":…,"message":…}}.
func ErrorResponse(id string, code Code, message string) []byte {
	b, err := json.Marshal(Response{ID: id, Error: &Error{Code: code, Message: message}})
	if err != nil { // cannot happen with strings
		panic(fmt.Sprintf("protocol: marshal error response: %v", err))
	}
	return b
}

// RequestID returns the id of a request that is a JSON object with a string
// "id" of 1–MaxID characters, as the engine reads it: the key spelled
// exactly "id" (encoding/json would match a struct field to "ID" or "Id"
// too). Front-ends use it to answer, with the page's id, the requests they
// refuse themselves.
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
	if n := utf8.RuneCountInString(id); n < 1 || n > MaxID {
		return "", false
	}
	return id, true
}

// ProgressMessage is an interim message of a long operation (DESIGN.md,
// "Long operations"): {"id": id, "progress": {"done": done, "total":
// total}}, sent before the operation's response.
func ProgressMessage(id string, done, total int) []byte {
	b, err := json.Marshal(Progress{ID: id, Progress: Count{Done: done, Total: total}})
	if err != nil { // cannot happen with a string and ints
		panic(fmt.Sprintf("protocol: marshal progress: %v", err))
	}
	return b
}

// Progress is a progress message, as clients read it.
type Progress struct {
	ID       string `json:"id"`
	Progress Count  `json:"progress"`
}

// Count is how far a long operation is: done of total.
type Count struct {
	Done  int `json:"done"`
	Total int `json:"total"`
}
