package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"kyso.vn/kyso/internal/frame"
	"kyso.vn/kyso/internal/rundir"
	"kyso.vn/kyso/internal/wire"
)

// ErrNotRunning: no agent answers on this user's local socket.
var ErrNotRunning = errors.New("agent: no kyso agent is running for this user")

// Quit asks this user's running agent to stop (a wire.Quit message on the
// local socket) and waits until it has closed the connection — its shutdown
// cancels what is pending and closes the listeners first — or ctx ends.
// `kyso uninstall` sends it so that an agent its autostart started does not
// keep running the removed program (on Windows nothing else stops it). Only
// the user's own processes reach the local socket, and they could end the
// agent anyway; the WebSocket and the native-messaging host never send it.
func Quit(ctx context.Context) error { return quitAt(ctx, rundir.SocketPath()) }

func quitAt(ctx context.Context, path string) error {
	dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	c, err := DialLocalAt(dctx, path)
	cancel()
	if err != nil {
		return fmt.Errorf("%w (%v)", ErrNotRunning, err)
	}
	defer c.Close()
	if _, err := ask(ctx, c, wire.Quit); err != nil {
		return fmt.Errorf("agent: asking the agent to quit: %w", err)
	}
	// The agent closes every connection as it shuts down.
	if _, err := frame.Read(c, wire.MaxFrame); err != nil && !errors.Is(err, io.EOF) && ctx.Err() != nil {
		return fmt.Errorf("agent: waiting for the agent to stop: %w", ctx.Err())
	}
	return nil
}

// ask sends one of the agent's own questions (wire.Stats, wire.Quit) on c,
// a local-socket connection, and returns the body of its answer. Without a
// deadline in ctx it gives the agent 10 s.
func ask(ctx context.Context, c net.Conn, kind byte) ([]byte, error) {
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(10 * time.Second)
	}
	_ = c.SetDeadline(dl)
	if err := frame.Write(c, wire.Append(nil, wire.Message{Kind: kind, Tag: 1})); err != nil {
		return nil, err
	}
	b, err := frame.Read(c, wire.MaxFrame)
	if err != nil {
		return nil, err
	}
	m, err := wire.Parse(b)
	if err == nil && (m.Kind != wire.Answer || m.Tag != 1) {
		err = fmt.Errorf("not the answer (%q, tag %d)", m.Kind, m.Tag)
	}
	if err != nil {
		return nil, fmt.Errorf("answer %.80q: %w", b, err)
	}
	return m.Body, nil
}
