package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
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
type Fault struct {
	Control string // the control file, also in $KYSO_FAULT_CONTROL
	State   string // Control + ".state": what the module remembers (wrong PINs, removal by sign)
}

// NewFault makes an empty control file (no faults) in t's temp dir and sets
// KYSO_FAULT_CONTROL to it and KYSO_FAULT_TARGET to SoftHSM for the test
// (t.Setenv: restored after the test, so not for parallel tests).
func NewFault(t testing.TB) *Fault {
	t.Helper()
	module := FindSoftHSM()
	if module == "" {
		t.Fatal("testenv: libsofthsm2.so not found (apt-get install softhsm2)")
	}
	f := &Fault{Control: filepath.Join(t.TempDir(), "fault.conf")}
	f.State = f.Control + ".state"
	t.Setenv("KYSO_FAULT_CONTROL", f.Control)
	t.Setenv("KYSO_FAULT_TARGET", module)
	if err := f.write(""); err != nil {
		t.Fatal(err)
	}
	return f
}

// Set replaces the control file with lines (key=value, see
// testdata/README.md), atomically, so the module never reads half a file.
// It panics on a write error: the test cannot go on meaningfully.
func (f *Fault) Set(lines ...string) {
	s := strings.Join(lines, "\n")
	if s != "" {
		s += "\n"
	}
	if err := f.write(s); err != nil {
		panic(err)
	}
}

// Reset clears every fault and the module's remembered state (wrong-PIN
// count, removal by remove_on_sign).
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
