//go:build linux && cgo

package security

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"kyso.vn/kyso/internal/extid"
	"kyso.vn/kyso/internal/testenv"
)

// The agent and the host hold a PIN for a moment; neither may leave it in
// a core file, and another process of the same user may not read their
// memory (issue 16, finding 7). Each runs from the shipped binary as uid
// 65534, and a second process of uid 65534 (no capabilities) looks at it:
//   - /proc/PID/limits says "Max core file size 0 0";
//   - the process is not dumpable: its /proc/PID files belong to root
//     (the kernel's sign of PR_SET_DUMPABLE 0), and opening
//     /proc/PID/mem or /proc/PID/environ is refused (EACCES) for the
//     same-uid process, where before the fix it read both.
//
// What this does not show: that a crash writes no core (the dumpable flag
// and the limit are what the kernel reads for that), and root, which holds
// CAP_SYS_PTRACE, can still read everything.
func TestCoreDumpsOffAndMemoryClosed(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run Kyso and the reader as another uid")
	}
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("/usr/bin/python3 not installed")
	}
	home, err := os.MkdirTemp("", "kyso-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(home)
	// A copy of the binary nobody can run, whatever the build dir's modes.
	bin := filepath.Join(home, "kyso")
	b, err := os.ReadFile(testenv.KysoBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(freePortForNobody(t))
	cfg := filepath.Join(home, "config.json")
	os.WriteFile(cfg, []byte(`{"port": `+port+`}`), 0o600)
	for _, d := range []string{"run", "cache", "config"} {
		os.Mkdir(filepath.Join(home, d), 0o700)
	}
	filepath.Walk(home, func(p string, _ os.FileInfo, _ error) error { return os.Lchown(p, 65534, 65534) })
	env := []string{"HOME=" + home, "PATH=/usr/bin:/bin", "LANG=C.UTF-8",
		"XDG_RUNTIME_DIR=" + filepath.Join(home, "run"), "XDG_CACHE_HOME=" + filepath.Join(home, "cache"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config")}
	nobody := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}

	start := func(args ...string) (*exec.Cmd, io.WriteCloser) {
		cmd := exec.Command(bin, args...)
		cmd.Env, cmd.Dir, cmd.SysProcAttr = env, home, nobody
		stdin, _ := cmd.StdinPipe() // the host waits for the browser on it
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			stdin.Close()
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
			if t.Failed() {
				t.Logf("%s output:\n%s", args[0], out.String())
			}
		})
		return cmd, stdin
	}
	serve, _ := start("serve", "--config", cfg)
	sock := filepath.Join(home, "run", "kyso", "agent.sock")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("kyso serve (as nobody) never opened its socket")
		}
	}
	hostCmd, _ := start("chrome-extension://" + extid.Kyso.Development.ChromiumID + "/")
	// The host turns dumps off right after its log opens; the agent is
	// up already. Wait until the host has relayed to it (its log says so).
	waitLog(t, filepath.Join(home, "cache", "kyso", "kyso.log"), "relaying to the agent")

	for name, pid := range map[string]int{"serve": serve.Process.Pid, "host": hostCmd.Process.Pid} {
		limits, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/limits")
		if err != nil {
			t.Fatal(err)
		}
		if !coreLimitZero(string(limits)) {
			t.Errorf("kyso %s may dump core:\n%s", name, limits)
		}
		var st syscall.Stat_t
		if err := syscall.Stat("/proc/"+strconv.Itoa(pid)+"/environ", &st); err != nil {
			t.Fatal(err)
		}
		if st.Uid != 0 {
			t.Errorf("kyso %s is dumpable: /proc/%d/environ belongs to uid %d, not root", name, pid, st.Uid)
		}
		out := asNobody(t, `import sys
for f in ("mem", "environ"):
    try:
        open("/proc/%s/%s" % (sys.argv[1], f), "rb").close()
        print(f, "readable")
    except PermissionError:
        print(f, "refused")`, strconv.Itoa(pid))
		if out != "mem refused\nenviron refused" {
			t.Errorf("another process of the same user opens kyso %s's memory:\n%s", name, out)
		}
	}
}

// coreLimitZero reads the "Max core file size" line of /proc/PID/limits.
func coreLimitZero(limits string) bool {
	sc := bufio.NewScanner(strings.NewReader(limits))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Max core file size"); ok {
			f := strings.Fields(rest)
			return len(f) >= 2 && f[0] == "0" && f[1] == "0"
		}
	}
	return false
}

func freePortForNobody(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitLog(t *testing.T, path, text string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if b, _ := os.ReadFile(path); strings.Contains(string(b), text) {
			return
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(path)
			t.Fatalf("%s never said %q:\n%s", path, text, b)
		}
	}
}
