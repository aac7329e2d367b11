package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	faultOnce sync.Once
	faultPath string
	faultErr  error
)

// FaultModule returns the path of the fault-injecting PKCS#11 module
// (testdata/faultp11): $KYSO_FAULT_MODULE when set (the Makefile builds
// bin/libkysofault.so), else built with gcc once per test process. Load it
// as a PKCS#11 module; it forwards to $KYSO_FAULT_TARGET (SoftHSM by
// default) and injects the faults a Fault's control file asks for.
func FaultModule(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("KYSO_FAULT_MODULE"); p != "" {
		return p
	}
	faultOnce.Do(func() {
		faultPath, faultErr = buildFault()
	})
	if faultErr != nil {
		t.Fatal(faultErr)
	}
	return faultPath
}

func buildFault(defines ...string) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	dir, err := mkTemp("kyso-fault-")
	if err != nil {
		return "", fmt.Errorf("testenv: %w", err)
	}
	out := filepath.Join(dir, "libkysofault.so")
	// The same command as the Makefile's bin/libkysofault.so rule.
	args := append([]string{"-shared", "-fPIC", "-O2", "-Wall"}, defines...)
	args = append(args, "-o", out, filepath.Join(root, "testdata", "faultp11", "faultp11.c"), "-ldl")
	if b, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("testenv: gcc faultp11.c: %w\n%s", err, b)
	}
	return out, nil
}

var (
	noListOnce sync.Once
	noListPath string
	noListErr  error
)

// NoFunctionListModule returns a shared library that loads but is no
// PKCS#11 module: faultp11.c built with -DKYSO_NO_FUNCTION_LIST, which has
// no C_GetFunctionList (built with gcc once per test process).
func NoFunctionListModule(t testing.TB) string {
	t.Helper()
	noListOnce.Do(func() {
		noListPath, noListErr = buildFault("-DKYSO_NO_FUNCTION_LIST")
	})
	if noListErr != nil {
		t.Fatal(noListErr)
	}
	return noListPath
}

// NotALibrary writes, in t's temp dir, a file named like a PKCS#11 module
// that is no shared library at all (text), and returns its path.
func NotALibrary(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "libnotpkcs11.so")
	if err := os.WriteFile(p, []byte("this is not a shared library\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Fault drives the fault module through its control file. The module reads
// the file before each call it wraps, so a change takes effect at once, in
// this process and in any child (kyso serve/host) that inherited the env.
// Set replaces every line; the typed knobs (SetSlow, Unplug, PINPad, Hang,
// FaultySignatures, …) change their own lines and keep the others. Every
// write is a new control file: a removal by remove_on_sign ends with it.
type Fault struct {
	Control string // the control file, also in $KYSO_FAULT_CONTROL
	State   string // Control + ".state": what the module remembers (wrong PINs, removal by sign, …)
	target  string // the module it wraps, $KYSO_FAULT_TARGET

	mu    sync.Mutex
	lines []string // key=value, in the order written
}

// NewFault makes an empty control file (no faults) in t's temp dir and sets
// KYSO_FAULT_CONTROL to it and KYSO_FAULT_TARGET to SoftHSM for the test
// (t.Setenv: restored after the test, so not for parallel tests).
func NewFault(t testing.TB) *Fault {
	t.Helper()
	f := NewFaultEnv(t)
	for _, kv := range f.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return f
}

// NewFaultEnv makes an empty control file like NewFault but sets no
// environment: a parallel test gives Env to the process that loads the
// module (AgentOptions.Env).
func NewFaultEnv(t testing.TB) *Fault {
	t.Helper()
	module := FindSoftHSM()
	if module == "" {
		t.Fatal("testenv: libsofthsm2.so not found (apt-get install softhsm2)")
	}
	f := &Fault{Control: filepath.Join(t.TempDir(), "fault.conf"), target: module}
	f.State = f.Control + ".state"
	if err := f.write(""); err != nil {
		t.Fatal(err)
	}
	return f
}

// Env is what a process needs in its environment to be driven by f:
// KYSO_FAULT_CONTROL and KYSO_FAULT_TARGET.
func (f *Fault) Env() []string {
	return []string{"KYSO_FAULT_CONTROL=" + f.Control, "KYSO_FAULT_TARGET=" + f.target}
}

// Set replaces the control file with lines (key=value, see
// testdata/README.md and docs/testdata.md), atomically, so the module never
// reads half a file. It panics on a write error: the test cannot go on
// meaningfully.
func (f *Fault) Set(lines ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lines = append([]string(nil), lines...)
	f.flush()
}

// Knob sets one control line key=value, keeping the others; an empty value
// removes the line. The typed knobs below are made of it.
func (f *Fault) Knob(kv ...string) {
	if len(kv)%2 != 0 {
		panic("testenv: Knob takes key, value pairs")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := 0; i < len(kv); i += 2 {
		key, value := kv[i], kv[i+1]
		kept := f.lines[:0:0]
		for _, l := range f.lines {
			if k, _, _ := strings.Cut(l, "="); strings.TrimSpace(k) != key {
				kept = append(kept, l)
			}
		}
		if value != "" {
			kept = append(kept, key+"="+value)
		}
		f.lines = kept
	}
	f.flush()
}

func (f *Fault) flush() {
	s := strings.Join(f.lines, "\n")
	if s != "" {
		s += "\n"
	}
	if err := f.write(s); err != nil {
		panic(err)
	}
}

// Reset clears every fault and the module's remembered state (wrong-PIN
// count, lock by the pad, removal by remove_on_sign, plug-in timer, faulty
// signatures made).
func (f *Fault) Reset() {
	if err := os.Remove(f.State); err != nil && !os.IsNotExist(err) {
		panic(fmt.Errorf("testenv: reset fault state: %w", err))
	}
	f.Set()
}

func (f *Fault) write(content string) error {
	tmp := f.Control + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return fmt.Errorf("testenv: write fault control: %w", err)
	}
	if err := os.Rename(tmp, f.Control); err != nil {
		return fmt.Errorf("testenv: write fault control: %w", err)
	}
	return nil
}

func ms(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return strconv.FormatInt(d.Milliseconds(), 10)
}

// SetSignDelay makes every real C_Sign (not a length query) take d more:
// a slow USB token (0: SoftHSM's own speed).
func (f *Fault) SetSignDelay(d time.Duration) { f.Knob("sign_delay_ms", ms(d)) }

// Slow is how long a slow token takes in the calls that talk to the chip.
// A zero field leaves that call at SoftHSM's speed.
type Slow struct {
	Sign  time.Duration // each real C_Sign / C_SignFinal
	Login time.Duration // each C_Login (after the PIN pad's typing, if any)
	Find  time.Duration // each C_FindObjects
	Attr  time.Duration // each C_GetAttributeValue (miekg/pkcs11 makes two per read: size, then value)
}

// SetSlow makes the token as slow as s says.
func (f *Fault) SetSlow(s Slow) {
	f.Knob("sign_delay_ms", ms(s.Sign), "login_delay_ms", ms(s.Login),
		"find_delay_ms", ms(s.Find), "attr_delay_ms", ms(s.Attr))
}

// Unplug pulls out the tokens with these labels, or every token when none is
// given: C_GetSlotList(CK_TRUE) omits them, the slot says no token present.
func (f *Fault) Unplug(labels ...string) {
	v := "all"
	if len(labels) > 0 {
		v = strings.Join(labels, ",")
	}
	f.Knob("removed", v)
}

// PlugIn puts every token back (ends Unplug and PlugInAfter).
func (f *Fault) PlugIn() { f.Knob("removed", "", "plug_in_after_ms", "") }

// PlugInAfter makes every token absent until d after the first
// C_GetSlotList (in any process) that follows this call: a person who plugs
// the token in while the dialog waits, without the test doing anything.
func (f *Fault) PlugInAfter(d time.Duration) { f.Knob("plug_in_after_ms", ms(d)) }

// PadOutcome is what the person does at the PIN pad.
type PadOutcome string

const (
	PadOK     PadOutcome = "ok"     // types the right PIN: C_Login succeeds
	PadWrong  PadOutcome = "wrong"  // a wrong PIN: CKR_PIN_INCORRECT (counted by LockAfter)
	PadLocked PadOutcome = "locked" // the token locks: CKR_PIN_LOCKED, then CKF_USER_PIN_LOCKED until Reset
	PadCancel PadOutcome = "cancel" // Cancel on the pad, or its timeout: CKR_FUNCTION_CANCELED
)

// PINPad gives every token a PIN pad (CKF_PROTECTED_AUTHENTICATION_PATH):
// C_Login(NULL PIN) takes delay (the person typing), then ends as outcome
// says at that moment (call PINPad again meanwhile to change it). A C_Login
// with a PIN gets CKR_ARGUMENTS_BAD. On PadOK the module logs the target in
// with the test tokens' PIN.
func (f *Fault) PINPad(outcome PadOutcome, delay time.Duration) {
	f.PINPadWith(outcome, delay, PIN)
}

// PINPadWith is PINPad for tokens provisioned with another PIN (Provision).
func (f *Fault) PINPadWith(outcome PadOutcome, delay time.Duration, pin string) {
	f.Knob("pinpad", "all", "pinpad_outcome", string(outcome), "pinpad_delay_ms", ms(delay), "pinpad_pin", pin)
}

// NoPINPad takes the PIN pads away.
func (f *Fault) NoPINPad() {
	f.Knob("pinpad", "", "pinpad_outcome", "", "pinpad_delay_ms", "", "pinpad_pin", "")
}

// LockAfter locks the user PIN after n wrong PINs (typed or on the pad),
// with COUNT_LOW and FINAL_TRY on the way (0: no counting).
func (f *Fault) LockAfter(n int) {
	v := ""
	if n > 0 {
		v = strconv.Itoa(n)
	}
	f.Knob("lock_after", v)
}

// Hang makes the named calls (C_Sign, C_Login, C_GetSlotList; none given:
// C_Sign) block inside the module until Release. Other calls go on.
func (f *Fault) Hang(calls ...string) {
	if len(calls) == 0 {
		calls = []string{"C_Sign"}
	}
	f.Knob("hang", strings.Join(calls, ","))
}

// Release lets hung calls go on (they then do their work as usual); later
// calls do not hang.
func (f *Fault) Release() { f.Knob("hang", "", "hang_ms", "", "hang_result", "") }

// Hung is the number of calls blocked by Hang right now, in every process.
func (f *Fault) Hung() int {
	b, err := os.ReadFile(f.State)
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "hung="); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

// WaitHung waits (up to limit) until n calls are blocked by Hang.
func (f *Fault) WaitHung(t testing.TB, n int, limit time.Duration) {
	t.Helper()
	for end := time.Now().Add(limit); f.Hung() < n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("testenv: %d calls hung after %v, want %d", f.Hung(), limit, n)
		}
	}
}

// FaultySignatures makes the next n signatures (n < 0: every one, 0: none)
// come back with one bit flipped, as from a fault in the token's RSA-CRT.
// The count starts again at every write of the control file.
func (f *Fault) FaultySignatures(n int) {
	v := ""
	switch {
	case n < 0:
		v = "all"
	case n > 0:
		v = strconv.Itoa(n)
	}
	f.Knob("faulty_sign", v)
}
