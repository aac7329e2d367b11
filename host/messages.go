package host

import (
	"kyso.vn/kyso/internal/wire"
	"kyso.vn/kyso/prompt"
)

// Error codes the host itself answers with (protocol v1).
const (
	codeBadRequest = "BAD_REQUEST"
	codeInternal   = "INTERNAL"
)

// errorResponse is a protocol v1 failure for an error the host finds by
// itself, before the engine sees the request. key names its message in
// prompt's table ("host."+key), in the language of the user's locale.
func errorResponse(id, code, key string) []byte {
	return wire.ErrorResponse(id, code, prompt.T(prompt.Lang(), "host."+key))
}
