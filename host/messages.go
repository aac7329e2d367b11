package host

import (
	"kyso.vn/kyso/prompt"
	"kyso.vn/kyso/protocol"
)

// errorResponse is a protocol v1 failure for an error the host finds by
// itself, before the engine sees the request. key names its message in
// prompt's table ("host."+key), in the language of the user's locale.
func errorResponse(id string, code protocol.Code, key string) []byte {
	return protocol.ErrorResponse(id, code, prompt.T(prompt.Lang(), "host."+key))
}
