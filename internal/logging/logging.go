// Package logging sets up Kyso's zerolog logger as DESIGN's "Logs" rule asks:
// JSON lines in the user's cache dir (os.UserCacheDir()/kyso/kyso.log), and a
// human console writer on stderr when stderr is a terminal.
//
// What goes into a log line is the callers' business, but the rules stand:
// never a PIN, hashes and signatures only truncated.
package logging

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
)

// MaxSize is the size above which kyso.log is rotated to kyso.log.1: when a
// process starts, and when a running process's own writes would take the
// file over it (a web page can make the agent log a line per request for as
// long as it likes). No locking between the agent and host processes, which
// may share the file: a process that still holds the rotated file writes on
// into kyso.log.1, which is harmless.
const MaxSize = 5 << 20

// FileName is the log file's name inside Dir().
const FileName = "kyso.log"

// AuditFileName is the signing record's name inside Dir(): one line per
// request that a person or a token took part in (a signature, a
// certificate given, a dialog declined, a token failing), and nothing
// else. kyso.log has every request, so any page can push old lines out of
// it by asking `version` in a loop; this file grows only as fast as people
// answer dialogs (docs/agent.md, "Logs").
const AuditFileName = "audit.log"

// Dir is where the logs live: os.UserCacheDir()/kyso.
func Dir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("logging: no user cache dir: %w", err)
	}
	return filepath.Join(base, "kyso"), nil
}

// New returns a logger tagged with component ("agent", "host", …) writing to
// the log file and, when stderr is a terminal, to stderr. The Closer closes
// the file. If the file cannot be opened, New still returns a usable logger
// (stderr only) together with the error, so a read-only cache dir never stops
// the agent.
func New(component string) (zerolog.Logger, io.Closer, error) {
	dir, err := Dir()
	if err != nil {
		return stderrOnly(component), nopCloser{}, err
	}
	return NewIn(dir, component)
}

// NewIn is New with the log directory given (tests).
func NewIn(dir, component string) (zerolog.Logger, io.Closer, error) {
	rf, err := openRotating(dir, FileName)
	if err != nil {
		return stderrOnly(component), nopCloser{}, err
	}
	var w io.Writer = rf
	if isatty.IsTerminal(os.Stderr.Fd()) || isatty.IsCygwinTerminal(os.Stderr.Fd()) {
		w = zerolog.MultiLevelWriter(rf, console())
	}
	return zerolog.New(w).With().Timestamp().Str("component", component).Logger(), rf, nil
}

// OpenAudit opens the signing record (AuditFileName in dir) for appending,
// rotated like kyso.log. Its lines are internal/audit's records, one JSON
// object each, written by the engine and read by `kyso history`.
func OpenAudit(dir string) (io.WriteCloser, error) {
	return openRotating(dir, AuditFileName)
}

// Generations lists the files of a log in dir as rotation keeps them,
// oldest first: the rotated one (name.1), then the current one.
func Generations(dir, name string) []string {
	path := filepath.Join(dir, name)
	return []string{path + ".1", path}
}

func openRotating(dir, name string) (*rotating, error) {
	f, err := openLog(dir, name)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("logging: %w", err)
	}
	return &rotating{dir: dir, name: name, f: f, size: st.Size()}, nil
}

// rotating is a log file, rotated when this process's writes would take
// it over MaxSize.
type rotating struct {
	mu   sync.Mutex
	dir  string
	name string
	f    *os.File // nil once rotation failed (lines are dropped) or closed
	size int64
}

func (r *rotating) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f != nil && r.size > 0 && r.size+int64(len(p)) > MaxSize {
		r.f.Close()
		path := filepath.Join(r.dir, r.name)
		r.f, r.size = nil, 0
		// When the full file cannot be moved aside (Windows, while another
		// process has it open), lines are dropped rather than let it grow.
		if os.Rename(path, path+".1") == nil {
			r.f, _ = openLog(r.dir, r.name)
		}
	}
	if r.f == nil {
		return len(p), nil
	}
	n, err := r.f.Write(p)
	r.size += int64(n)
	return n, err
}

func (r *rotating) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}

func openLog(dir, name string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("logging: create %s: %w", dir, err)
	}
	// MkdirAll leaves an existing dir's mode alone; the logs name origins
	// and certificates, which other local users have no business reading.
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("logging: chmod %s: %w", dir, err)
	}
	path := filepath.Join(dir, name)
	if st, err := os.Stat(path); err == nil && st.Size() > MaxSize {
		// Best effort: if another process rotated first, the rename fails
		// or moves its fresh file; both are harmless.
		_ = os.Rename(path, path+".1")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("logging: open %s: %w", path, err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("logging: chmod %s: %w", path, err)
	}
	return f, nil
}

func console() io.Writer {
	return zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: time.TimeOnly}
}

func stderrOnly(component string) zerolog.Logger {
	var w io.Writer = os.Stderr
	if isatty.IsTerminal(os.Stderr.Fd()) {
		w = console()
	}
	return zerolog.New(w).With().Timestamp().Str("component", component).Logger()
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
