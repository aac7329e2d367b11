package host

import (
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

// ProtocolStdout keeps the standard output handle for the protocol and
// points the process's standard output (and os.Stdout) at stderr, so that
// nothing else in the process — a PKCS#11 module printing, a stray
// fmt.Println — can write into the browser's message stream.
func ProtocolStdout() (*os.File, error) {
	out := os.Stdout
	if err := windows.SetStdHandle(windows.STD_OUTPUT_HANDLE, windows.Handle(os.Stderr.Fd())); err != nil {
		return nil, fmt.Errorf("host: redirect stdout: %w", err)
	}
	os.Stdout = os.Stderr
	return out, nil
}
