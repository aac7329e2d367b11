//go:build linux || darwin

package agent

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A wire.Quit message (kyso uninstall) stops the agent: Run returns, the
// local socket is gone. A request whose op is "agentQuit", over the
// WebSocket or relayed by the host, is only an unknown op and the agent
// keeps serving.
func TestAgentQuit(t *testing.T) {
	r := start(t, newEcho(), Options{})
	ws := r.dial(t, goodOrigin)
	if resp := callWS(t, ws, map[string]any{"op": "agentQuit"}); resp.OK || resp.Code() == "" {
		t.Fatalf("agentQuit over the WebSocket: %+v", resp)
	}
	lc := r.dialLocal(t)
	if resp := callLocal(t, lc, goodOrigin, map[string]any{"id": "x", "op": "agentQuit"}); resp.Code() != "UNKNOWN_OP" {
		t.Fatalf("agentQuit as a request: %+v", resp)
	}
	if r.a.ctx.Err() != nil {
		t.Fatal("the agent stopped on a request that was not its own quit")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := quitAt(ctx, r.sock); err != nil {
		t.Fatalf("quit: %v", err)
	}
	if r.a.ctx.Err() == nil {
		t.Fatal("the agent acknowledged quit but did not stop")
	}
	r.stop()
	if err := quitAt(ctx, r.sock); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("quit with no agent: %v, want ErrNotRunning", err)
	}
}
