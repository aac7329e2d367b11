package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"

	"kyso.vn/kyso/internal/testenv"
)

// kyso runs the shipped binary in English with a private home, and returns
// stdout, stderr and the exit code.
func kyso(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return kysoIn(t, "en_US.UTF-8", args...)
}

// kysoIn is kyso with LANG=lang.
func kysoIn(t *testing.T, lang string, args ...string) (string, string, int) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(testenv.KysoBinary(t), args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + home, "XDG_RUNTIME_DIR=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "LANG=" + lang}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// versionRE is the shape of every version Kyso reports.
var versionRE = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-dev(\+[0-9a-z]+(\.dirty)?)?)?$`)

func TestVersionForms(t *testing.T) {
	want := regexp.MustCompile(`^kyso (\S+) \(protocol 1\)\n$`)
	var first string
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		out, _, code := kyso(t, args...)
		m := want.FindStringSubmatch(out)
		if code != 0 || m == nil {
			t.Fatalf("kyso %v: %d %q", args, code, out)
		}
		if !versionRE.MatchString(m[1]) {
			t.Errorf("kyso %v: %q is not MAJOR.MINOR.PATCH[-dev+commit]", args, m[1])
		}
		if first == "" {
			first = out
		} else if out != first {
			t.Errorf("kyso %v: %q, kyso version said %q", args, out, first)
		}
	}
}

// Every command: kyso help CMD, kyso CMD --help and kyso CMD -h print the
// same help on stdout and exit 0; it starts with the usage line, and every
// flag in it is written --name.
func TestHelpEveryCommand(t *testing.T) {
	out, _, code := kyso(t, "--help")
	if code != 0 || !strings.Contains(out, "Commands:") {
		t.Fatalf("kyso --help: %d\n%s", code, out)
	}
	if o, _, c := kyso(t, "-h"); c != 0 || o != out {
		t.Fatalf("kyso -h differs from --help: %d\n%s", c, o)
	}
	names := regexp.MustCompile(`(?m)^  ([a-z]+) `).FindAllStringSubmatch(out, -1)
	if len(names) < 10 {
		t.Fatalf("commands listed: %v", names)
	}
	singleDash := regexp.MustCompile(`(?m)^\s+-[a-z]`)
	for _, n := range names {
		cmd := n[1]
		help, _, code := kyso(t, "help", cmd)
		if code != 0 || !strings.HasPrefix(help, "Usage: kyso "+cmd) {
			t.Errorf("kyso help %s: %d\n%s", cmd, code, help)
			continue
		}
		for _, form := range []string{"--help", "-h"} {
			if o, _, c := kyso(t, cmd, form); c != 0 || o != help {
				t.Errorf("kyso %s %s: %d, differs from kyso help %s:\n%s", cmd, form, c, cmd, o)
			}
		}
		if singleDash.MatchString(help) {
			t.Errorf("kyso help %s writes a flag with one dash:\n%s", cmd, help)
		}
		if strings.Contains(help, "--root") {
			t.Errorf("kyso help %s shows the hidden --root", cmd)
		}
	}
}

// The help is the message table's, in the person's language: the usage
// line, the values' names and the flags' texts in Vietnamese, the flag
// texts aligned by characters, not bytes.
func TestHelpInVietnamese(t *testing.T) {
	out, _, code := kysoIn(t, "vi_VN.UTF-8", "help", "tokens")
	want := "Cách dùng: kyso tokens [--config TỆP] [--module ĐƯỜNG_DẪN]...\n"
	if code != 0 || !strings.HasPrefix(out, want) {
		t.Fatalf("kyso help tokens in Vietnamese: %d\n%s", code, out)
	}
	var cols []int
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "  --") {
			i := strings.Index(line[2:], "  ")
			rest := strings.TrimLeft(line[2+i:], " ")
			cols = append(cols, len([]rune(line))-len([]rune(rest)))
		}
	}
	if len(cols) != 2 || cols[0] != cols[1] || !strings.Contains(out, "Tùy chọn:") {
		t.Errorf("flag texts not aligned (columns %v):\n%s", cols, out)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"nosuchcommand"}, {"help", "nosuchcommand"}, {"doctor", "--nosuchflag"},
		{"status", "extra"}, {"tokens", "--module"}, {"origins"}, {"version", "x"},
		{"history", "extra"}, {"history", "--limit", "-1"}, {"history", "--limit", "x"},
	} {
		out, errOut, code := kyso(t, args...)
		if code != 2 || out != "" || errOut == "" {
			t.Errorf("kyso %v: exit %d, stdout %q, stderr %q; want 2, nothing on stdout, a message on stderr", args, code, out, errOut)
		}
	}
	// Flags after the words, and "--" ending them, in every command alike.
	if out, _, code := kyso(t, "origins", "list", "--config", "/nonexistent/config.json"); code != 0 || !strings.Contains(out, "ORIGIN") {
		t.Errorf("origins list --config …: %d\n%s", code, out)
	}
}

// doctor --json: the documented schema (docs/cli.md), exit 1 with faults.
func TestDoctorJSON(t *testing.T) {
	// A free port, not 28418, which another program on a shared machine
	// may hold (doctor then reports "port" instead of "agent").
	cfg := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`{"port": %d}`, testenv.FreePort(t))), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code := kyso(t, "doctor", "--json", "--config", cfg)
	var r struct {
		Schema   *int    `json:"schema"`
		Version  *string `json:"version"`
		OK       *bool   `json:"ok"`
		Findings []struct {
			Check   string            `json:"check"`
			Level   string            `json:"level"`
			Message map[string]string `json:"message"`
			Fix     map[string]string `json:"fix"`
		} `json:"findings"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if r.Schema == nil || *r.Schema != 1 || r.Version == nil || r.OK == nil || len(r.Findings) == 0 {
		t.Fatalf("report: %s", out)
	}
	// No display and no install here: faults, so ok is false and exit 1.
	if *r.OK || code != 1 {
		t.Errorf("ok=%v exit %d, want false and 1", *r.OK, code)
	}
	seen := map[string]string{}
	for _, f := range r.Findings {
		if f.Check == "" || (f.Level != "ok" && f.Level != "note" && f.Level != "fault") || f.Message["en"] == "" || f.Message["vi"] == "" {
			t.Errorf("finding: %+v", f)
		}
		seen[f.Check] = f.Level
	}
	for _, c := range []string{"manifest/chrome", "autostart", "settings", "agent", "dialog"} {
		if seen[c] == "" {
			t.Errorf("no %q finding in %s", c, out)
		}
	}
	if seen["dialog"] != "fault" {
		t.Errorf("dialog with no DISPLAY: %q, want fault", seen["dialog"])
	}
}

func TestBuildVersion(t *testing.T) {
	info := func(settings ...debug.BuildSetting) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) { return &debug.BuildInfo{Settings: settings}, true }
	}
	rev := debug.BuildSetting{Key: "vcs.revision", Value: "0123456789abcdef0123"}
	for _, c := range []struct {
		stamped string
		info    func() (*debug.BuildInfo, bool)
		want    string
	}{
		{"1.4.2", info(rev), "1.4.2"},
		{unstamped, info(rev), "0.0.0-dev+0123456789ab"},
		{unstamped, info(rev, debug.BuildSetting{Key: "vcs.modified", Value: "true"}), "0.0.0-dev+0123456789ab.dirty"},
		{unstamped, info(), unstamped},
	} {
		got := buildVersion(c.stamped, c.info)
		if got != c.want || !versionRE.MatchString(got) {
			t.Errorf("buildVersion(%q) = %q, want %q", c.stamped, got, c.want)
		}
	}
}

// scripts/version.sh, which the Makefile stamps into the binary, in a
// scratch repository: no tag, a tag at HEAD, commits after it, a dirty tree.
func TestVersionScript(t *testing.T) {
	script, err := filepath.Abs("../../scripts/version.sh")
	if err != nil {
		t.Fatal(err)
	}
	repo := t.TempDir()
	if err := os.MkdirAll(filepath.Join(repo, "scripts"), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "scripts/version.sh"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"}, args...)...)
		cmd.Dir = repo
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	version := func() string {
		t.Helper()
		out, err := exec.Command("bash", filepath.Join(repo, "scripts/version.sh")).Output()
		if err != nil {
			t.Fatal(err)
		}
		v := strings.TrimSpace(string(out))
		if !versionRE.MatchString(v) {
			t.Errorf("version.sh printed %q: not a Kyso version", v)
		}
		return v
	}
	git("init", "-q")
	git("add", ".")
	git("commit", "-q", "-m", "one")
	short := git("rev-parse", "--short=12", "HEAD")
	if v := version(); v != "0.0.0-dev+"+short {
		t.Errorf("untagged: %q", v)
	}
	git("tag", "v1.2.0")
	git("tag", "v1.10.0-rc1") // not a release tag: ignored
	if v := version(); v != "1.2.0" {
		t.Errorf("at v1.2.0: %q", v)
	}
	os.WriteFile(filepath.Join(repo, "scripts/version.sh"), append(b, '\n'), 0o755)
	if v := version(); v != "1.2.0-dev+"+short+".dirty" {
		t.Errorf("v1.2.0 with changes: %q", v)
	}
	git("commit", "-q", "-am", "two")
	git("tag", "v1.9.0", "HEAD~1")
	short = git("rev-parse", "--short=12", "HEAD")
	if v := version(); v != "1.9.0-dev+"+short {
		t.Errorf("after v1.9.0 (the highest release tag reached): %q", v)
	}
}
