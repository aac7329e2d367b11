package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"kyso.vn/kyso/internal/frame"
)

// quitOp is the local-socket frame that asks the agent to stop, like
// agentStats an envelope with no origin and no request: {"op":"agentQuit"}.
// `kyso uninstall` sends it so that an agent its autostart started does not
// keep running the removed program (on Windows nothing else stops it). Only
// the user's own processes reach the local socket, and they could end the
// agent anyway; the WebSocket and the native-messaging host never send it.
const quitOp = "agentQuit"

// ErrNotRunning: no agent answers on this user's local socket.
var ErrNotRunning = errors.New("agent: no kyso agent is running for this user")

// Quit asks this user's running agent to stop and waits until it has closed
// the connection (its shutdown cancels what is pending and closes the
// listeners first), or ctx ends.
func Quit(ctx context.Context) error { return quitAt(ctx, SocketPath()) }

func quitAt(ctx context.Context, path string) error {
	dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	c, err := DialLocalAt(dctx, path)
	cancel()
	if err != nil {
		return fmt.Errorf("%w (%v)", ErrNotRunning, err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if err := frame.Write(c, []byte(`{"op":"`+quitOp+`"}`)); err != nil {
		return fmt.Errorf("agent: asking the agent to quit: %w", err)
	}
	b, err := frame.Read(c, frame.Max)
	if err != nil {
		return fmt.Errorf("agent: asking the agent to quit: %w", err)
	}
	if string(b) != quitAck {
		return fmt.Errorf("agent: unexpected answer to quit: %.80q", b)
	}
	// The agent closes every connection as it shuts down.
	if _, err := frame.Read(c, frame.Max); err != nil && !errors.Is(err, io.EOF) && ctx.Err() != nil {
		return fmt.Errorf("agent: waiting for the agent to stop: %w", ctx.Err())
	}
	return nil
}

const quitAck = `{"quitting":true}`
