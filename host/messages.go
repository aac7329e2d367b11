package host

import (
	"kyso.vn/kyso/messages"
	"kyso.vn/kyso/protocol"
)

// errorResponse is a protocol v1 failure for an error the host finds by
// itself, before the engine sees the request, in the language of the
// user's locale.
func errorResponse(id string, code protocol.Code, m messages.Text) []byte {
	return protocol.ErrorResponse(id, code, m.In(messages.Lang()))
}
