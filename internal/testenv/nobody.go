//go:build unix

package testenv

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// Nobody is the uid (and gid) tests use for "another local user".
const Nobody = 65534

// PythonAsNobody runs the system python3 with code as uid Nobody (the test
// is skipped unless it runs as root), waits for the first line the program
// prints and returns it with the process id. The program should then wait
// for its stdin to close: that happens at cleanup, and the process is
// waited for.
func PythonAsNobody(t testing.TB, code string, args ...string) (string, int) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root to run a program as another uid")
	}
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("/usr/bin/python3 not installed")
	}
	cmd := exec.Command("/usr/bin/python3", append([]string{"-c", code}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: Nobody, Gid: Nobody}}
	cmd.Dir = "/"
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatalf("testenv: python3 as nobody: %v", err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("testenv: python3 as nobody printed %q: %v", line, err)
	}
	return strings.TrimSpace(line), cmd.Process.Pid
}
