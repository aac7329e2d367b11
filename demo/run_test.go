//go:build linux

package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"kyso.vn/kyso/internal/testenv"
)

// `make demo` as a person runs it on a fresh clone: the extension is built,
// and demo/run.sh opens Chromium with it on a display. Run as root (CI,
// containers) Chromium must get --no-sandbox, or it exits at once and the
// demo carries on without a browser.
func TestDemoScriptOpensBrowserWithExtension(t *testing.T) {
	for _, tool := range []string{"chromium", "node", "softhsm2-util"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	root := testenv.RepoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "bin", "kyso")); err != nil {
		t.Skip("bin/kyso not built (make build; make test builds it)")
	}
	display := testenv.Display(t)
	// What `make demo` does before run.sh (Makefile: demo: … extension-build).
	if b, err := exec.Command("node", filepath.Join(root, "extension", "build.js")).CombinedOutput(); err != nil {
		t.Fatalf("extension build: %v\n%s", err, b)
	}

	dir := t.TempDir()
	port, agentPort := testenv.FreePort(t), testenv.FreePort(t)
	logPath := filepath.Join(dir, "run.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command("bash", filepath.Join(root, "demo", "run.sh"))
	cmd.Env = append(os.Environ(), "DISPLAY="+display, "KYSO_DEMO_DIR="+filepath.Join(dir, "demo"),
		"KYSO_DEMO_PORT="+strconv.Itoa(port), "KYSO_DEMO_AGENT_PORT="+strconv.Itoa(agentPort))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) // run.sh's trap stops what it started
		select {
		case <-stopped:
		case <-time.After(20 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-stopped
		}
	})

	var out string
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(500 * time.Millisecond) {
		b, _ := os.ReadFile(logPath)
		out = string(b)
		if strings.Contains(out, "Press Ctrl-C to stop") {
			break
		}
		select {
		case err := <-stopped:
			t.Fatalf("demo/run.sh ended: %v\n%s", err, out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo/run.sh did not get to the browser:\n%s", out)
		}
	}
	for _, bad := range []string{"Chromium exited at once", "is not built yet"} {
		if strings.Contains(out, bad) {
			t.Errorf("run.sh said %q:\n%s", bad, out)
		}
	}
	if os.Getuid() == 0 && !strings.Contains(out, "--no-sandbox") {
		t.Errorf("as root run.sh did not say it runs Chromium without its sandbox:\n%s", out)
	}
	// The demo's Chromium runs, with the demo profile and the extension.
	profile := filepath.Join(dir, "demo", "chromium-profile")
	if !browserRunning(profile, filepath.Join(root, "extension", "build", "chromium")) {
		b, _ := os.ReadFile(filepath.Join(dir, "demo", "chromium.log"))
		t.Fatalf("no Chromium with --user-data-dir=%s and the extension\nrun.sh:\n%s\nchromium.log:\n%s", profile, out, b)
	}
	resp, err := http.Get("http://localhost:" + strconv.Itoa(port) + "/")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("demo portal: %v %v", resp, err)
	}
	resp.Body.Close()
}

// browserRunning looks for a process started with the profile and the
// unpacked extension.
func browserRunning(profile, ext string) bool {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		var hasProfile, hasExt bool
		for _, a := range args {
			hasProfile = hasProfile || a == "--user-data-dir="+profile
			hasExt = hasExt || a == "--load-extension="+ext
		}
		if hasProfile && hasExt {
			return true
		}
	}
	return false
}
