package pkcs11

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/internal/atomicfile"
)

// The crash journal remembers which PKCS#11 module took the process down,
// so that a module crashing Kyso again and again (a vendor library that
// aborts or segfaults) is skipped instead of taking the agent down on every
// restart. See docs/tokens.md, "A module that crashes Kyso".
//
// Each process that calls into modules owns one marker file, run-<pid>,
// with one fixed-size record per module: before a call into the module the
// record says "in module X, call C", after it "out". The marker is a shared
// memory mapping of the file where the OS allows (a store, no system call,
// on the signing path; Windows writes the few bytes instead), with no fsync:
// a crashed process's dirty pages stay in the page cache and reach the file.
// At start, a marker left by a dead process with a record still "in" means
// that process died inside that module: one more crash for it. Its second
// crash in a row disables it (modules.json beside the markers) until the
// user re-enables it; the module returning from the call it crashed in
// resets the count.

// CrashLimit is how many crashes in a row disable a module.
const CrashLimit = 2

const (
	markSize  = 4096 // one record: state, call, path
	markCall  = 32   // state byte + call name
	markSlots = 64   // modules one process can journal
	stateFile = "modules.json"
)

// ModuleRecord is what the journal knows of one module.
type ModuleRecord struct {
	Crashes  int       `json:"crashes"`            // in a row, not yet cleared
	Disabled bool      `json:"disabled,omitempty"` // skipped until re-enabled
	Call     string    `json:"call,omitempty"`     // the call it last crashed in
	At       time.Time `json:"at,omitzero"`        // when that crash was found
}

type journalFile struct {
	Format  int                      `json:"format"`
	Modules map[string]*ModuleRecord `json:"modules"`
}

// CrashError is the status of a module the journal made Kyso skip.
type CrashError struct {
	Path   string
	Record ModuleRecord
}

func (e *CrashError) Error() string {
	if e.Record.Disabled {
		return fmt.Sprintf("module %s disabled: it crashed Kyso %d times in a row (last in %s); re-enable it with: kyso modules enable %s",
			e.Path, e.Record.Crashes, e.Record.Call, e.Path)
	}
	return fmt.Sprintf("module %s not loaded here: it crashed Kyso on its last use (in %s)", e.Path, e.Record.Call)
}

// Journal is the crash journal of one process. A nil *Journal journals
// nothing and skips nothing.
type Journal struct {
	dir string
	log zerolog.Logger

	mu     sync.Mutex
	recs   map[string]*ModuleRecord
	stamp  string    // modules.json's size and mtime when last read
	mf     *markFile // nil: no marker, nothing journaled
	closed bool      // Close ran: no new marks
	marks  map[string]*mark
}

// JournalDir is where the journal lives: the user's cache dir, beside the
// logs (os.UserCacheDir()/kyso/modules).
func JournalDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("crash journal: %w", err)
	}
	return filepath.Join(base, "kyso", "modules"), nil
}

// OpenJournal reads the journal in dir, counts the crashes that markers of
// dead processes show, and starts this process's marker. A journal whose
// marker cannot be made still reads and skips disabled modules; the error
// says it cannot count new crashes.
func OpenJournal(dir string, log zerolog.Logger) (*Journal, error) {
	j := &Journal{dir: dir, log: log, recs: map[string]*ModuleRecord{}, marks: map[string]*mark{}}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return j, fmt.Errorf("crash journal: %w", err)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.reloadLocked()
	j.recoverLocked()
	f, err := os.OpenFile(filepath.Join(dir, "run-"+strconv.Itoa(os.Getpid())), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return j, fmt.Errorf("crash journal marker: %w", err)
	}
	if err := f.Truncate(markSlots * markSize); err != nil {
		f.Close()
		return j, fmt.Errorf("crash journal marker: %w", err)
	}
	mf, err := openMarkFile(f)
	if err != nil {
		f.Close()
		return j, fmt.Errorf("crash journal marker: %w", err)
	}
	j.mf = mf
	return j, nil
}

// Close ends this process's marker: nothing it was doing is a crash. For
// a clean exit: a module call still running after it is not journaled.
func (j *Journal) Close() error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.mf == nil || j.closed {
		return nil
	}
	j.closed = true // j.mf stays: marks taken before may still write
	err := j.mf.close()
	os.Remove(filepath.Join(j.dir, "run-"+strconv.Itoa(os.Getpid())))
	return err
}

// reloadLocked re-reads modules.json when it changed (another process
// counted a crash, or the user re-enabled a module). A broken file is
// logged and read as empty: it must not stop Kyso.
func (j *Journal) reloadLocked() {
	p := filepath.Join(j.dir, stateFile)
	st, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			j.recs, j.stamp = map[string]*ModuleRecord{}, ""
		}
		return
	}
	stamp := strconv.FormatInt(st.Size(), 10) + "@" + st.ModTime().Format(time.RFC3339Nano)
	if stamp == j.stamp {
		return
	}
	j.stamp = stamp
	b, err := os.ReadFile(p)
	var jf journalFile
	if err == nil {
		err = json.Unmarshal(b, &jf)
	}
	if err != nil {
		j.log.Error().Err(err).Str("file", p).Msg("crash journal unreadable; starting it afresh")
		jf.Modules = nil
	}
	j.recs = map[string]*ModuleRecord{}
	for k, r := range jf.Modules {
		if r != nil {
			j.recs[k] = r
		}
	}
}

func (j *Journal) saveLocked() error {
	b, err := json.MarshalIndent(journalFile{Format: 1, Modules: j.recs}, "", "  ")
	if err != nil {
		return err
	}
	p := filepath.Join(j.dir, stateFile)
	if err := atomicfile.Write(p, append(b, '\n'), 0o600); err != nil {
		j.log.Error().Err(err).Str("file", p).Msg("cannot save the crash journal")
		return fmt.Errorf("crash journal: %w", err)
	}
	if st, err := os.Stat(p); err == nil {
		j.stamp = strconv.FormatInt(st.Size(), 10) + "@" + st.ModTime().Format(time.RFC3339Nano)
	}
	return nil
}

// recoverLocked reads the markers of processes that are gone. Each is
// first renamed to a name of ours, so that two processes starting at once
// do not both count it.
func (j *Journal) recoverLocked() {
	names, _ := filepath.Glob(filepath.Join(j.dir, "run-*"))
	changed := false
	for _, name := range names {
		base := filepath.Base(name)
		owner := base[len("run-"):]
		if i := strings.Index(owner, ".claim-"); i >= 0 {
			owner = owner[i+len(".claim-"):] // a claimer that died before it finished
		}
		pid, err := strconv.Atoi(owner)
		if err != nil {
			continue
		}
		if pid != os.Getpid() && processAlive(pid) {
			continue
		}
		claimed := filepath.Join(j.dir, strings.SplitN(base, ".", 2)[0]+".claim-"+strconv.Itoa(os.Getpid()))
		if name != claimed {
			if err := os.Rename(name, claimed); err != nil {
				continue // another process claimed it first, or its owner still holds it (Windows)
			}
		}
		b, err := os.ReadFile(claimed)
		if err == nil {
			for _, c := range parseMarks(b) {
				j.crashedLocked(c.path, c.call)
				changed = true
			}
		}
		os.Remove(claimed)
	}
	if changed {
		j.saveLocked()
	}
}

type inFlight struct{ path, call string }

// parseMarks returns the records of a marker file still "in" a module.
func parseMarks(b []byte) []inFlight {
	var out []inFlight
	for off := 0; off+markSize <= len(b); off += markSize {
		rec := b[off : off+markSize]
		if rec[0] != '1' {
			continue
		}
		call := string(bytes.TrimRight(rec[1:markCall], "\x00"))
		path := string(bytes.TrimRight(rec[markCall:], "\x00"))
		if path != "" {
			out = append(out, inFlight{path, call})
		}
	}
	return out
}

func (j *Journal) crashedLocked(path, call string) {
	r := j.recs[path]
	if r == nil {
		r = &ModuleRecord{}
		j.recs[path] = r
	}
	r.Crashes++
	r.Call, r.At = call, time.Now().UTC().Truncate(time.Second)
	if r.Crashes >= CrashLimit {
		r.Disabled = true
	}
	ev := j.log.Warn()
	if r.Disabled {
		ev = j.log.Error()
	}
	ev.Str("module", path).Str("call", call).Int("crashes", r.Crashes).Bool("disabled", r.Disabled).
		Msg("a PKCS#11 module crashed Kyso")
}

// Record returns what the journal knows of the module at path (resolved as
// discovery resolves it), re-reading the file when it changed.
func (j *Journal) Record(path string) (ModuleRecord, bool) {
	if j == nil {
		return ModuleRecord{}, false
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.reloadLocked()
	r, ok := j.recs[realPath(path)]
	if !ok {
		r, ok = j.recs[path]
	}
	if !ok {
		return ModuleRecord{}, false
	}
	return *r, true
}

// Records returns every module the journal knows, by path.
func (j *Journal) Records() map[string]ModuleRecord {
	out := map[string]ModuleRecord{}
	if j == nil {
		return out
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.reloadLocked()
	for k, r := range j.recs {
		out[k] = *r
	}
	return out
}

// Enable forgets the crashes of the module at path, so that it is loaded
// again. found is false when the journal knew nothing of it.
func (j *Journal) Enable(path string) (found bool, err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.reloadLocked()
	for _, k := range []string{realPath(path), path} {
		if _, ok := j.recs[k]; ok {
			delete(j.recs, k)
			found = true
		}
	}
	if !found {
		return false, nil
	}
	if m := j.marks[realPath(path)]; m != nil {
		m.pending.Store(false)
	}
	j.log.Info().Str("module", path).Msg("PKCS#11 module re-enabled by the user")
	return true, j.saveLocked()
}

// markFor returns the module's record in this process's marker, assigning
// one on first use; nil when the journal cannot mark (no marker file, or
// more than markSlots modules).
func (j *Journal) markFor(path string) *mark {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if m, ok := j.marks[path]; ok {
		return m
	}
	if j.mf == nil || j.closed || len(j.marks) >= markSlots || len(path) >= markSize-markCall {
		return nil
	}
	m := &mark{j: j, path: path, off: int64(len(j.marks)) * markSize}
	rec := make([]byte, markSize)
	rec[0] = '0'
	copy(rec[markCall:], path)
	j.mf.write(m.off, rec)
	if r := j.recs[path]; r != nil && r.Crashes > 0 {
		m.pending.Store(true)
	}
	j.marks[path] = m
	return m
}

// succeeded: the module returned from call. If that is the call it last
// crashed in, its count starts again from zero.
func (j *Journal) succeeded(path, call string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.reloadLocked()
	r := j.recs[path]
	if r == nil {
		if m := j.marks[path]; m != nil {
			m.pending.Store(false) // cleared by another process or the user
		}
		return
	}
	if r.Disabled || r.Call != call {
		return
	}
	delete(j.recs, path)
	if m := j.marks[path]; m != nil {
		m.pending.Store(false)
	}
	j.log.Info().Str("module", path).Str("call", call).Msg("PKCS#11 module works again; its crash count is cleared")
	j.saveLocked()
}

// outState is the state byte of a record whose module returned.
var outState = [1]byte{'0'}

// mark is one module's record in this process's marker file.
type mark struct {
	j       *Journal
	path    string
	off     int64
	pending atomic.Bool // the module has crashes to clear on success

	mu    sync.Mutex
	depth int // goroutines inside the module now
}

// region is one call (or a few calls making one operation) into a module.
type region struct {
	m    *mark
	call string
}

// enter records that the process is now inside the module, in call (the
// main PKCS#11 call of the operation). Safe on a nil mark.
func (m *mark) enter(call string) region {
	if m == nil {
		return region{}
	}
	m.mu.Lock()
	m.depth++
	if m.depth == 1 {
		var rec [markCall]byte
		rec[0] = '1'
		copy(rec[1:], call)
		m.j.mf.write(m.off, rec[:])
	}
	m.mu.Unlock()
	return region{m: m, call: call}
}

// leave records that the call returned.
func (r region) leave() {
	m := r.m
	if m == nil {
		return
	}
	m.mu.Lock()
	m.depth--
	if m.depth == 0 {
		m.j.mf.write(m.off, outState[:])
	}
	m.mu.Unlock()
	if m.pending.Load() {
		m.j.succeeded(m.path, r.call)
	}
}

// realPath resolves path as discovery does: symlinks, then absolute.
func realPath(path string) string {
	real := path
	if r, err := filepath.EvalSymlinks(path); err == nil {
		real = r
	}
	if abs, err := filepath.Abs(real); err == nil {
		real = abs
	}
	return real
}

// SortedPaths returns the keys of recs in order, for listings.
func SortedPaths(recs map[string]ModuleRecord) []string {
	out := make([]string, 0, len(recs))
	for k := range recs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
