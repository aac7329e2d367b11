package e2e_test

// A system view for one test: files the test needs at system paths (the
// Kyso system policy /etc/kyso/policy.json, a Chromium managed policy in
// /etc/chromium/policies/managed, an external-extension file in
// /usr/share/chromium/extensions) without touching the machine, which other
// tests and sessions share. Chromium and `kyso install` run in a private
// mount namespace where /etc and /usr/share are overlays holding those
// files; the `kyso host` that Chromium starts inherits it. When the kernel
// or the container refuses the namespace, the files are written in place
// as root (never over an existing file) and removed at cleanup; without
// root the test is skipped.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// overlayRoots are the system folders a sysOverlay may add files under.
var overlayRoots = []string{"/etc", "/usr/share"}

type sysOverlay struct {
	wrap string // a script that runs its arguments in the namespace; "" = files written in place
}

// newSysOverlay makes the files (absolute path → content) visible at
// their paths to the programs run through run (and to what they start).
func newSysOverlay(t *testing.T, files map[string][]byte) *sysOverlay {
	t.Helper()
	dir := t.TempDir()
	var mounts strings.Builder
	used := map[string]bool{}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		root := ""
		for _, r := range overlayRoots {
			if strings.HasPrefix(p, r+"/") {
				root = r
			}
		}
		if root == "" {
			t.Fatalf("sysOverlay: %s is not under %v", p, overlayRoots)
		}
		up := filepath.Join(dir, "up"+strings.ReplaceAll(root, "/", "_"))
		if err := os.MkdirAll(filepath.Dir(filepath.Join(up, strings.TrimPrefix(p, root))), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(up, strings.TrimPrefix(p, root)), files[p], 0o644); err != nil {
			t.Fatal(err)
		}
		if used[root] {
			continue
		}
		used[root] = true
		work, merged := up+".work", up+".merged"
		os.MkdirAll(work, 0o755)
		os.MkdirAll(merged, 0o755)
		// Mount the overlay aside, bind what is mounted below root (a
		// container's /etc/hosts, /etc/resolv.conf) into it, then move it
		// over root: the view is the machine's plus the test's files.
		fmt.Fprintf(&mounts, `mount -t overlay overlay -o lowerdir=%[1]s,upperdir=%[2]s,workdir=%[3]s %[4]s
awk '{print $5}' /proc/self/mountinfo | grep '^%[1]s/' | while read -r m; do mount --bind "$m" "%[4]s${m#%[1]s}"; done
mount --move %[4]s %[1]s
`, root, up, work, merged)
	}
	// The up dirs must be root's and not writable by others, like the real
	// system folders (Kyso checks who owns its system policy).
	os.Chmod(dir, 0o755)
	flags := "--mount --propagation private"
	if os.Geteuid() != 0 {
		flags += " --map-root-user" // a user namespace: root inside, the test's user outside
	}
	wrap := filepath.Join(dir, "in-sys-overlay")
	script := "#!/bin/sh\n# Runs \"$@\" where the test's files overlay the system folders.\nexec unshare " + flags +
		" /bin/sh -ec '" + strings.ReplaceAll(mounts.String(), "'", `'"'"'`) + "exec \"$@\"' in-sys-overlay \"$@\"\n"
	if err := os.WriteFile(wrap, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	probe := exec.Command(wrap, "/bin/true")
	var stderr bytes.Buffer
	probe.Stderr = &stderr
	if err := probe.Run(); err == nil {
		return &sysOverlay{wrap: wrap}
	}
	if os.Geteuid() != 0 {
		t.Skipf("no mount namespace here (%s) and not root: cannot give the test a system policy", strings.TrimSpace(stderr.String()))
	}
	t.Logf("no mount namespace here (%s): writing the system files in place for this test", strings.TrimSpace(stderr.String()))
	for _, p := range paths {
		if _, err := os.Lstat(p); err == nil {
			t.Skipf("%s exists already and there is no mount namespace: not overwriting the machine's own file", p)
		}
		var made []string
		for d := filepath.Dir(p); ; d = filepath.Dir(d) {
			if _, err := os.Stat(d); err == nil {
				break
			}
			made = append(made, d)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, files[p], 0o644); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			os.Remove(p)
			for _, d := range made { // deepest first
				os.Remove(d)
			}
		})
	}
	return &sysOverlay{}
}

// command is name with args, run in the overlay.
func (s *sysOverlay) command(name string, args ...string) *exec.Cmd {
	if s == nil || s.wrap == "" {
		return exec.Command(name, args...)
	}
	return exec.Command(s.wrap, append([]string{name}, args...)...)
}

// chromium is a program that runs Chromium in the overlay, for chromedp.
func (s *sysOverlay) chromium(t *testing.T) string {
	if s == nil || s.wrap == "" {
		return chromiumPath
	}
	p := filepath.Join(filepath.Dir(s.wrap), "chromium")
	if err := os.WriteFile(p, []byte("#!/bin/sh\nexec "+s.wrap+" "+chromiumPath+" \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}
