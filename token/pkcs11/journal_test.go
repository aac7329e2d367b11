package pkcs11_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/internal/testenv"
	"kyso.vn/kyso/token/pkcs11"
)

// The crash journal's tests make real crashes: a child process (this test
// binary, running TestJournalChild) loads the fault module with the
// journal, and the module aborts or segfaults it where the control file
// says. The parent then opens the journal as the restarted agent would.

const (
	childDir    = "KYSO_JOURNAL_CHILD_DIR"
	childModule = "KYSO_JOURNAL_CHILD_MODULE"
)

// TestJournalChild is the child's body; it does nothing in a normal run.
func TestJournalChild(t *testing.T) {
	dir := os.Getenv(childDir)
	if dir == "" {
		t.Skip("only run as a child of the journal tests")
	}
	j, err := pkcs11.OpenJournal(dir, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	p := pkcs11.New(pkcs11.Options{Modules: []string{os.Getenv(childModule)}, NoDiscovery: true,
		Log: zerolog.Nop(), Journal: j})
	p.Certificates(context.Background()) // loads the module and lists its slots
	os.Stdout.WriteString("child: listed\n")
	time.Sleep(time.Minute) // until killed, when the module did not crash it
}

// runChild runs the child until it dies (crashed: the module did it) or
// prints that it listed the tokens (then it is SIGKILLed, outside any call
// into the module). It returns whether the child crashed by itself.
func runChild(t *testing.T, dir, module string) bool {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestJournalChild$", "-test.v")
	cmd.Env = append(os.Environ(), childDir+"="+dir, childModule+"="+module)
	out := &lockedBuf{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for deadline := time.Now().Add(time.Minute); ; {
		select {
		case err := <-done:
			// Go's runtime turns a signal in C code into a trace and exit
			// status 2; the module says where it crashed.
			if err == nil || !strings.Contains(out.String(), "faultp11: crashing") {
				t.Fatalf("child ended without a crash: %v\n%s", err, out)
			}
			return true
		case <-time.After(50 * time.Millisecond):
		}
		if strings.Contains(out.String(), "child: listed") {
			cmd.Process.Kill()
			<-done
			return false
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("child neither crashed nor listed:\n%s", out)
		}
	}
}

// lockedBuf collects the child's output while the test reads it.
type lockedBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func openJournal(t *testing.T, dir string) *pkcs11.Journal {
	t.Helper()
	j, err := pkcs11.OpenJournal(dir, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func TestJournalTwoCrashesDisable(t *testing.T) {
	testenv.Shared(t)
	f := testenv.NewFault(t)
	mod := testenv.FaultModule(t)
	dir := t.TempDir()
	for _, how := range []string{"abort", "segv"} {
		f.Set("crash=C_Initialize", "crash_how="+how)
		if !runChild(t, dir, mod) {
			t.Fatalf("crash_how=%s: the child did not crash", how)
		}
	}
	j := openJournal(t, dir)
	rec, ok := j.Record(mod)
	if !ok || !rec.Disabled || rec.Crashes != 2 || rec.Call != "C_Initialize" {
		t.Fatalf("after two crashes: %+v, %v", rec, ok)
	}
	// The markers of the dead children were read and removed.
	if m, _ := filepath.Glob(filepath.Join(dir, "run-*")); len(m) != 1 {
		t.Errorf("markers left: %v (want only this process's)", m)
	}
	// Disabled: not loaded (it would crash this test), reported with why.
	p := pkcs11.New(pkcs11.Options{Modules: []string{mod}, NoDiscovery: true, Log: zerolog.Nop(), Journal: j})
	st := p.Modules()
	var ce *pkcs11.CrashError
	if len(st) != 1 || st[0].Loaded || !errors.As(st[0].Err, &ce) || !ce.Record.Disabled {
		t.Fatalf("modules of a disabled module: %+v", st)
	}
	if !strings.Contains(st[0].Err.Error(), "kyso modules enable") {
		t.Errorf("the error does not say how to re-enable: %v", st[0].Err)
	}
	// Re-enabled: tried again, and it crashes again (one crash, not yet
	// disabled).
	if found, err := j.Enable(mod); !found || err != nil {
		t.Fatalf("Enable: %v, %v", found, err)
	}
	if rec, ok := j.Record(mod); ok {
		t.Fatalf("still recorded after Enable: %+v", rec)
	}
	j.Close() // one journal per process and dir: the next one takes over
	if !runChild(t, dir, mod) {
		t.Fatal("the re-enabled module was not tried")
	}
	if rec, _ := openJournal(t, dir).Record(mod); rec.Crashes != 1 || rec.Disabled {
		t.Fatalf("after re-enabling and one more crash: %+v", rec)
	}
}

func TestJournalSuccessClearsCount(t *testing.T) {
	testenv.Shared(t)
	f := testenv.NewFault(t)
	mod := testenv.FaultModule(t)
	dir := t.TempDir()
	f.Set("crash=C_GetSlotList", "crash_how=segv")
	if !runChild(t, dir, mod) {
		t.Fatal("the child did not crash")
	}
	j := openJournal(t, dir)
	if rec, _ := j.Record(mod); rec.Crashes != 1 || rec.Disabled || rec.Call != "C_GetSlotList" {
		t.Fatalf("after one crash: %+v", rec)
	}
	// The diagnostics skip a module that crashed once; the agent does not.
	cautious := pkcs11.New(pkcs11.Options{Modules: []string{mod}, NoDiscovery: true, Log: zerolog.Nop(),
		Journal: j, Cautious: true})
	if st := cautious.Modules(); len(st) != 1 || st[0].Loaded {
		t.Fatalf("cautious provider loaded a module that crashed: %+v", st)
	}
	f.Reset()
	p := pkcs11.New(pkcs11.Options{Modules: []string{mod}, NoDiscovery: true, Log: zerolog.Nop(), Journal: j})
	certs, err := p.Certificates(context.Background())
	if err != nil || len(certs) == 0 {
		t.Fatalf("listing through the module: %d, %v", len(certs), err)
	}
	if rec, ok := j.Record(mod); ok {
		t.Fatalf("a slot listing that returned did not clear the count: %+v", rec)
	}
	// The cleared state is on disk: a restarted process sees it.
	b, _ := os.ReadFile(filepath.Join(dir, "modules.json"))
	if strings.Contains(string(b), filepath.Base(mod)) {
		t.Errorf("modules.json still names the module:\n%s", b)
	}
}

func TestJournalKillOutsideModuleIsNoCrash(t *testing.T) {
	testenv.Shared(t)
	testenv.NewFault(t)
	mod := testenv.FaultModule(t)
	dir := t.TempDir()
	if runChild(t, dir, mod) {
		t.Fatal("the child crashed without a fault")
	}
	j := openJournal(t, dir)
	if recs := j.Records(); len(recs) != 0 {
		t.Fatalf("SIGKILL outside any module call counted as a crash: %+v", recs)
	}
}

func TestJournalBrokenFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "modules.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	j := openJournal(t, dir)
	if recs := j.Records(); len(recs) != 0 {
		t.Fatalf("records from a broken file: %+v", recs)
	}
	if found, err := j.Enable("/nowhere/libx.so"); found || err != nil {
		t.Fatalf("Enable of an unknown module: %v, %v", found, err)
	}
}

func TestJournalNilIsHarmless(t *testing.T) {
	var j *pkcs11.Journal
	if _, ok := j.Record("/x"); ok || len(j.Records()) != 0 || j.Close() != nil {
		t.Fatal("a nil journal knows something")
	}
}
