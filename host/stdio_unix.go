//go:build linux || darwin

package host

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// ProtocolStdout takes file descriptor 1 for the protocol and points fd 1
// (and os.Stdout) at stderr, so that nothing else in the process — a
// PKCS#11 module printing with printf, a stray fmt.Println — can write into
// the browser's message stream.
func ProtocolStdout() (*os.File, error) {
	fd, err := unix.Dup(1)
	if err != nil {
		return nil, fmt.Errorf("host: dup stdout: %w", err)
	}
	unix.CloseOnExec(fd)
	if err := dupStderrToStdout(); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("host: redirect stdout: %w", err)
	}
	os.Stdout = os.Stderr
	return os.NewFile(uintptr(fd), "protocol-stdout"), nil
}
