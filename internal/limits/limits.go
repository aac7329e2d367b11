// Package limits is the engine's Gate and Declines (engine.Options) shared
// by every Kyso process of this user through files in the user's runtime
// directory (internal/rundir): `kyso serve` and each `kyso host` that runs
// the engine itself (no agent) would otherwise each have their own
// one-dialog lock and rate limit, and a page could open a dialog in each and
// never be rate-limited. Its bounds are the engine's own numbers.
package limits

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/engine"
	"kyso.vn/kyso/internal/atomicfile"
	"kyso.vn/kyso/internal/rundir"
)

// Limits is the shared Gate and Declines.
type Limits struct {
	Gate     *FileGate
	Declines *FileDeclines
}

// Files of the shared limits, in the runtime directory beside the socket.
const (
	gateFile         = "interactive.lock" // held by the one interactive operation
	declinesLockFile = "declines.lock"    // held while declines.json is read or rewritten
	declinesFile     = "declines.json"
)

// Bounds of declines.json: what a page can make it hold (one entry per
// dialog the person saw closed) is small, and a bigger file is not ours.
// Declines older than the rate limit's window count for nothing and are
// dropped; an origin needs no more entries than the largest limit counts.
const (
	maxDeclineOrigins = engine.MaxDeclineOrigins
	maxPerOrigin      = max(engine.RateMax, engine.ApprovalStormMax)
	maxDeclinesSize   = 1 << 20
	keepDeclines      = engine.RateWindow
)

// The file limits are what engine.Options takes.
var (
	_ engine.Gate     = (*FileGate)(nil)
	_ engine.Declines = (*FileDeclines)(nil)
)

// Shared returns the limits shared through files in this user's runtime
// directory (the socket's on Linux and macOS, %LocalAppData%\kyso on
// Windows). It fails when that directory cannot be made or is not this
// user's; the caller then runs with the in-memory limits and says so.
func Shared(log zerolog.Logger) (Limits, error) {
	dir, err := rundir.Dir()
	if err != nil {
		return Limits{}, fmt.Errorf("limits: %w", err)
	}
	return SharedAt(dir, log)
}

// SharedAt is Shared in dir (tests).
func SharedAt(dir string, log zerolog.Logger) (Limits, error) {
	if err := rundir.Private(dir); err != nil {
		return Limits{}, fmt.Errorf("limits: %w", err)
	}
	return Limits{
		Gate: &FileGate{path: filepath.Join(dir, gateFile)},
		Declines: &FileDeclines{
			lock: filepath.Join(dir, declinesLockFile),
			path: filepath.Join(dir, declinesFile),
			log:  log,
		},
	}, nil
}

// FileGate is an engine.Gate held through an exclusive, non-blocking lock on
// a file. The kernel drops the lock when the holder exits or crashes, so it
// is never left stale. The mutex keeps it to one holder within the process
// too.
type FileGate struct {
	mu   sync.Mutex
	path string
}

// TryAcquire is engine.Gate's. The lock file is opened for each operation
// (and closed with the lock): a file removed or replaced since (a cleaner
// of the /tmp fallback) is then never locked in place of the one at the
// path, which the other processes lock.
func (g *FileGate) TryAcquire() (func(), bool, error) {
	if !g.mu.TryLock() {
		return nil, false, nil
	}
	f, err := openLockFile(g.path)
	if err != nil {
		g.mu.Unlock()
		return nil, false, fmt.Errorf("limits: interactive lock: %w", err)
	}
	held, err := tryLockFile(f)
	if err != nil || !held {
		f.Close()
		g.mu.Unlock()
		if err != nil {
			return nil, false, fmt.Errorf("limits: interactive lock %s: %w", g.path, err)
		}
		return nil, false, nil
	}
	return func() {
		unlockFile(f)
		f.Close()
		g.mu.Unlock()
	}, true, nil
}

// FileDeclines is an engine.Declines kept in a small JSON file, read and
// rewritten under a short blocking lock of a second file, and replaced
// atomically.
type FileDeclines struct {
	mu         sync.Mutex
	lock, path string
	log        zerolog.Logger
}

// declinesDoc is declines.json.
type declinesDoc struct {
	Declines map[string][]time.Time `json:"declines"` // origin → declined/cancelled prompts
}

// Add is engine.Declines'.
func (d *FileDeclines) Add(origin string, t time.Time) error {
	return d.locked(func() error {
		m := d.read()
		since := t.Add(-keepDeclines)
		for o := range m {
			m[o] = after(m[o], since)
			if len(m[o]) == 0 {
				delete(m, o)
			}
		}
		m[origin] = append(m[origin], t)
		if n := len(m[origin]); n > maxPerOrigin {
			m[origin] = m[origin][n-maxPerOrigin:]
		}
		trim(m)
		return d.write(m)
	})
}

// Count is engine.Declines'.
func (d *FileDeclines) Count(origin string, since time.Time) (n int, err error) {
	// Read under the lock: on Windows an open reader would make the
	// writer's rename fail.
	err = d.locked(func() error {
		n = len(after(d.read()[origin], since))
		return nil
	})
	return n, err
}

// locked runs fn holding the lock file (and the mutex, for this process).
func (d *FileDeclines) locked(fn func() error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	f, err := openLockFile(d.lock)
	if err != nil {
		return fmt.Errorf("limits: rate-limit lock: %w", err)
	}
	defer f.Close()
	if err := lockFile(f); err != nil {
		return fmt.Errorf("limits: rate-limit lock %s: %w", d.lock, err)
	}
	defer unlockFile(f)
	return fn()
}

// read returns the record, empty when there is none. A file that is too
// large or not JSON also counts as empty, with a warning: it is only ever
// written whole by us, so that means tampering or a bug, and the rate limit
// then starts over, which is lenient but never blocks signing for good.
func (d *FileDeclines) read() map[string][]time.Time {
	m := map[string][]time.Time{}
	f, err := os.Open(d.path)
	if errors.Is(err, fs.ErrNotExist) {
		return m
	}
	if err != nil {
		d.log.Warn().Err(err).Msg("rate-limit record unreadable: starting over")
		return m
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxDeclinesSize+1))
	var doc declinesDoc
	if err == nil && len(data) > maxDeclinesSize {
		err = errors.New("too large")
	}
	if err == nil {
		err = json.Unmarshal(data, &doc)
	}
	if err != nil {
		d.log.Warn().Err(err).Str("file", d.path).Msg("rate-limit record corrupt: starting over")
		return m
	}
	for o, ts := range doc.Declines {
		if len(ts) > maxPerOrigin {
			ts = ts[len(ts)-maxPerOrigin:]
		}
		m[o] = ts
	}
	return m
}

// write replaces the record: a temp file in the same directory, 0600, then
// a rename, so a reader sees the old or the new file, never a torn one.
func (d *FileDeclines) write(m map[string][]time.Time) error {
	data, err := json.Marshal(declinesDoc{Declines: m})
	if err != nil {
		return err
	}
	if err := atomicfile.Write(d.path, data, 0o600); err != nil {
		return fmt.Errorf("limits: writing %s: %w", d.path, err)
	}
	return nil
}

// after returns the times of ts later than since.
func after(ts []time.Time, since time.Time) []time.Time {
	var out []time.Time
	for _, t := range ts {
		if t.After(since) {
			out = append(out, t)
		}
	}
	return out
}

// trim drops the origins whose last decline is oldest until at most
// maxDeclineOrigins remain: a site with wildcard DNS has endless origins to
// decline under, and only one origin's own declines limit it.
func trim(m map[string][]time.Time) {
	if len(m) <= maxDeclineOrigins {
		return
	}
	origins := make([]string, 0, len(m))
	for o := range m {
		origins = append(origins, o)
	}
	last := func(o string) time.Time { return m[o][len(m[o])-1] }
	sort.Slice(origins, func(i, j int) bool { return last(origins[i]).Before(last(origins[j])) })
	for _, o := range origins[:len(origins)-maxDeclineOrigins] {
		delete(m, o)
	}
}
