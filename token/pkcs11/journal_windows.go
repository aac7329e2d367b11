package pkcs11

import (
	"os"
	"syscall"
)

// markFile is this process's marker file, its records written with
// WriteFile at an offset: a few bytes into the cache manager, which keeps
// them when the process dies.
type markFile struct{ f *os.File }

func openMarkFile(f *os.File) (*markFile, error) { return &markFile{f}, nil }

func (m *markFile) write(off int64, b []byte) { m.f.WriteAt(b, off) }

func (m *markFile) close() error { return m.f.Close() }

// stillActive is STILL_ACTIVE, GetExitCodeProcess's answer for a running process.
const stillActive = 259

// processAlive reports whether pid runs: it can be opened and has no exit
// code yet. A process of another user that cannot be opened counts as alive.
func processAlive(pid int) bool {
	h, err := syscall.OpenProcess(syscall.PROCESS_QUERY_INFORMATION, false, uint32(pid))
	if err != nil {
		return err == syscall.ERROR_ACCESS_DENIED
	}
	defer syscall.CloseHandle(h)
	var code uint32
	if err := syscall.GetExitCodeProcess(h, &code); err != nil {
		return true
	}
	return code == stillActive
}
