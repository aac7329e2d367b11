// Package engine is the one engine behind both front-ends (the WebSocket
// agent and the native-messaging host): protocol v1 parsing and validation,
// origin policy, and the operations, which talk to tokens through
// token.Provider and to the person through prompt.Prompter.
package engine

// STUB: the engine helper replaces this file's body; the exported names below
// are the contract the front-ends code against.

import (
	"context"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/prompt"
	"kyso.vn/kyso/token"
)

// Version is the Kyso version, stamped by the linker (-X).
var Version = "0.0.0-dev"

// Options wires an Engine.
type Options struct {
	Provider token.Provider
	Prompter prompt.Prompter
	Paths    Paths // where the policy, config and approvals live
	Log      zerolog.Logger
}

// Paths locates the policy files. System has no override (what an admin
// locks, a user cannot unlock); User is config.json (--config overrides).
type Paths struct {
	System    string
	User      string
	Approvals string
}

// Engine answers protocol v1 requests. Safe for concurrent use.
type Engine struct{ o Options }

// New returns an Engine.
func New(o Options) (*Engine, error) { return &Engine{o: o}, nil }

// Handle answers one raw request from origin. ctx ends when the caller's
// connection closes, which cancels the operation and closes its dialog.
func (e *Engine) Handle(ctx context.Context, origin string, raw []byte) []byte {
	panic("engine: not implemented")
}

// MayAsk reports (nil) whether origin may talk to Kyso at all: of an allowed
// scheme, not blocked, and allowed or still approvable. Front-ends use it
// before accepting a connection (the WebSocket Origin check).
func (e *Engine) MayAsk(origin string) error { panic("engine: not implemented") }
