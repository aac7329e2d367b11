package installer

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// kysoBin is the kyso binary under test: $KYSO_BIN (make test sets it),
// else built here.
func kysoBin(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("KYSO_BIN"); b != "" {
		return b
	}
	out := filepath.Join(t.TempDir(), "kyso")
	cmd := exec.Command("go", "build", "-o", out, "kyso.vn/kyso/cmd/kyso")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

type runResult struct {
	out  string
	code int
}

func runKyso(t *testing.T, env []string, args ...string) runResult {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = env
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return runResult{buf.String(), code}
}

// The real command end to end, every path relocated under --root: install
// for the user and for all users, doctor finds the manifests, names a
// missing one and a bad policy file with their fixes, uninstall leaves
// only what was there before.
func TestCommandInstallDoctorUninstall(t *testing.T) {
	src := kysoBin(t)
	root := t.TempDir()
	scratch := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "usr/bin/kyso"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=/home/tester", "LANG=en_US.UTF-8",
		"XDG_CONFIG_HOME=" + filepath.Join(scratch, "config"),
		"XDG_CACHE_HOME=" + filepath.Join(scratch, "cache"),
		"XDG_RUNTIME_DIR=" + filepath.Join(scratch, "run"),
	}
	kyso := filepath.Join(root, "usr/bin/kyso")
	for _, scope := range [][]string{nil, {"--system"}} {
		args := append([]string{kyso, "install", "--root", root, "--bin", "/usr/bin/kyso"}, scope...)
		if r := runKyso(t, env, args...); r.code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, r.code, r.out)
		}
	}
	r := runKyso(t, env, kyso, "doctor", "--root", root, "--bin", "/usr/bin/kyso")
	for _, b := range []string{"Google Chrome", "Chromium", "Microsoft Edge", "Brave", "Firefox"} {
		if !strings.Contains(r.out, "✔ "+b+": registered (/home/tester/") {
			t.Fatalf("doctor does not see the %s manifest:\n%s", b, r.out)
		}
	}
	if !strings.Contains(r.out, "✔ Start at login: enabled") || strings.Contains(r.out, "manifest for") {
		t.Fatalf("doctor:\n%s", r.out)
	}

	// A browser family with no manifest anywhere.
	os.Remove(filepath.Join(root, "home/tester/.config/microsoft-edge/NativeMessagingHosts/vn.kyso.signer.json"))
	os.Remove(filepath.Join(root, "etc/opt/edge/native-messaging-hosts/vn.kyso.signer.json"))
	// A system policy with a syntax error on line 3.
	pol := filepath.Join(root, "etc/kyso/policy.json")
	os.MkdirAll(filepath.Dir(pol), 0o755)
	os.WriteFile(pol, []byte("{\n  \"allowedOrigins\": [\"https://*.gov.vn\"],\n  \"userApproval\": flase\n}\n"), 0o644)

	r = runKyso(t, env, kyso, "doctor", "--root", root, "--bin", "/usr/bin/kyso")
	if r.code == 0 {
		t.Fatalf("doctor exit 0 with faults:\n%s", r.out)
	}
	for _, want := range []string{
		"✘ Microsoft Edge: no native-messaging manifest for vn.kyso.signer",
		"→ Run: kyso install",
		"✘ A policy/config file is invalid",
		pol + ":3:",
		"→ Correct the file and line named above",
	} {
		if !strings.Contains(r.out, want) {
			t.Fatalf("doctor output lacks %q:\n%s", want, r.out)
		}
	}
	// Vietnamese by locale.
	vienv := append(slices.Clone(env[:len(env):len(env)]), "LANG=vi_VN.UTF-8")
	vienv = slices.DeleteFunc(vienv, func(s string) bool { return s == "LANG=en_US.UTF-8" })
	r = runKyso(t, vienv, kyso, "doctor", "--root", root, "--bin", "/usr/bin/kyso")
	if r.code == 0 || !strings.Contains(r.out, "Microsoft Edge: chưa có tệp khai báo") || !strings.Contains(r.out, "Tệp chính sách/cấu hình lỗi") {
		t.Fatalf("Vietnamese doctor:\n%s", r.out)
	}

	r = runKyso(t, env, kyso, "status", "--root", root)
	if !strings.Contains(r.out, "ws://127.0.0.1:") || !strings.Contains(r.out, "Installed for this user: /usr/bin/kyso") ||
		!strings.Contains(r.out, "Installed for all users: /usr/bin/kyso") {
		t.Fatalf("status:\n%s", r.out)
	}

	for _, scope := range [][]string{nil, {"--system"}} {
		args := append([]string{kyso, "uninstall", "--root", root}, scope...)
		if r := runKyso(t, env, args...); r.code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, r.code, r.out)
		}
	}
	left := tree(t, root)
	want := []string{".", "etc", "etc/kyso", "etc/kyso/policy.json", "usr", "usr/bin", "usr/bin/kyso"}
	if !slices.Equal(left, want) {
		t.Fatalf("left after uninstall:\n%v\nwant %v", left, want)
	}
}
