package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"
)

// SocketPath is the agent's named pipe, \\.\pipe\kyso-<user SID>: one per
// user, so users of one machine (terminal servers) never meet.
func SocketPath() string {
	sid, err := userSID()
	if err != nil {
		// Without a SID the pipe could not be restricted either;
		// ListenLocal reports the error.
		return `\\.\pipe\kyso`
	}
	return `\\.\pipe\kyso-` + sid
}

var userSID = sync.OnceValues(func() (string, error) {
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return "", fmt.Errorf("agent: current user SID: %w", err)
	}
	return u.User.Sid.String(), nil
})

// ListenLocal creates the named pipe with a DACL granting only the current
// user (no inherited ACEs, so not even Administrators or SYSTEM); go-winio
// also rejects remote (SMB) clients. A second agent of the same user cannot
// create the pipe again and gets ErrAlreadyRunning. Named pipes vanish with
// their process: nothing is left behind by a crash.
func ListenLocal() (net.Listener, error) { return ListenLocalAt(SocketPath()) }

// ListenLocalAt is ListenLocal on a given pipe name (tests).
func ListenLocalAt(path string) (net.Listener, error) {
	sid, err := userSID()
	if err != nil {
		return nil, err
	}
	ln, err := winio.ListenPipe(path, &winio.PipeConfig{
		SecurityDescriptor: "D:P(A;;GA;;;" + sid + ")",
		InputBufferSize:    64 << 10,
		OutputBufferSize:   64 << 10,
	})
	if err != nil {
		if errors.Is(err, windows.ERROR_ACCESS_DENIED) || errors.Is(err, windows.ERROR_PIPE_BUSY) {
			return nil, fmt.Errorf("%w (pipe %s)", ErrAlreadyRunning, path)
		}
		return nil, fmt.Errorf("agent: listen on %s: %w", path, err)
	}
	return ln, nil
}

// DialLocal connects to the running agent's named pipe.
func DialLocal(ctx context.Context) (net.Conn, error) { return DialLocalAt(ctx, SocketPath()) }

// DialLocalAt is DialLocal on a given pipe name (tests).
func DialLocalAt(ctx context.Context, path string) (net.Conn, error) {
	c, err := winio.DialPipeContext(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("agent: dial %s: %w", path, err)
	}
	return c, nil
}
