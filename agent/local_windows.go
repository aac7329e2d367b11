package agent

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"

	"kyso.vn/kyso/internal/rundir"
)

// ListenLocal creates the named pipe with a DACL granting only the current
// user (no inherited ACEs, so not even Administrators or SYSTEM); go-winio
// also rejects remote (SMB) clients. A second agent of the same user cannot
// create the pipe again and gets ErrAlreadyRunning. Named pipes vanish with
// their process: nothing is left behind by a crash.
func ListenLocal() (net.Listener, error) { return ListenLocalAt(rundir.SocketPath()) }

// ListenLocalAt is ListenLocal on a given pipe name (tests).
func ListenLocalAt(path string) (net.Listener, error) {
	sid, err := rundir.UserSID()
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
func DialLocal(ctx context.Context) (net.Conn, error) { return DialLocalAt(ctx, rundir.SocketPath()) }

// DialLocalAt is DialLocal on a given pipe name (tests). It refuses a pipe
// whose server runs as another user: any user may create a pipe of any free
// name, so another session could create ours first and then receive every
// origin and request the host relays, and answer as it likes.
func DialLocalAt(ctx context.Context, path string) (net.Conn, error) {
	c, err := winio.DialPipeContext(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("agent: dial %s: %w", path, err)
	}
	if err := checkPipeServer(c); err != nil {
		c.Close()
		return nil, fmt.Errorf("agent: %s: %w", path, err)
	}
	return c, nil
}

// checkPipeServer checks that the process serving the pipe runs as this
// user. A process of another user cannot even be opened for its token.
func checkPipeServer(c net.Conn) error {
	f, ok := c.(interface{ Fd() uintptr })
	if !ok {
		return fmt.Errorf("not a pipe: %T", c)
	}
	var pid uint32
	if err := windows.GetNamedPipeServerProcessId(windows.Handle(f.Fd()), &pid); err != nil {
		return fmt.Errorf("pipe server process: %w", err)
	}
	p, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return fmt.Errorf("pipe server process %d is not this user's: refused (%w)", pid, err)
	}
	defer windows.CloseHandle(p)
	var tok windows.Token
	if err := windows.OpenProcessToken(p, windows.TOKEN_QUERY, &tok); err != nil {
		return fmt.Errorf("pipe server process %d is not this user's: refused (%w)", pid, err)
	}
	defer tok.Close()
	u, err := tok.GetTokenUser()
	if err != nil {
		return fmt.Errorf("pipe server process %d: %w", pid, err)
	}
	mine, err := rundir.UserSID()
	if err != nil {
		return err
	}
	if got := u.User.Sid.String(); got != mine {
		return fmt.Errorf("served by another user (%s), not this one: refused", got)
	}
	return nil
}
