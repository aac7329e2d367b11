//go:build unix

package pkcs11

import (
	"errors"
	"os"
	"syscall"
)

// markFile is this process's marker file mapped shared: a record is
// written with a plain store, and the page cache keeps it when the process
// dies.
type markFile struct {
	f    *os.File
	data []byte
}

func openMarkFile(f *os.File) (*markFile, error) {
	data, err := syscall.Mmap(int(f.Fd()), 0, markSlots*markSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	return &markFile{f: f, data: data}, nil
}

func (m *markFile) write(off int64, b []byte) { copy(m.data[off:], b) }

// close closes the file but leaves it mapped until the process ends: a
// call still inside a module when the journal closes (an operation the
// browser left behind) writes its record there, into the removed file,
// rather than into unmapped memory.
func (m *markFile) close() error { return m.f.Close() }

// processAlive: signal 0 checks that pid exists (EPERM: it does, another
// user's). A pid reused by an unrelated process keeps a dead process's
// marker waiting until that one ends too.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
