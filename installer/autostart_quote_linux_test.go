package installer

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Paths a --system or per-user install may be run from: spaces, quotes,
// %, $, backslashes, backticks, a newline. The login start must run exactly
// that program with "serve" (issue 16, finding 8).
var awkwardDirs = []string{
	"plain",
	"with space",
	`it's "quoted"`,
	`100% sure %u %f`,
	`$HOME and ${PATH} and $(id)`,
	`back\slash\\two`,
	"back`tick`",
	"new\nline\ttab",
}

// The XDG autostart entry, read by GLib's own Desktop Entry parser
// (gio launch), runs the program at the awkward path with "serve". A stub
// systemctl that fails stands in for the user's service manager, which the
// test must not touch; the fallback then runs the program itself.
func TestDesktopExecQuoting(t *testing.T) {
	if _, err := exec.LookPath("gio"); err != nil {
		t.Skip("gio (libglib2.0-bin) not installed")
	}
	for _, name := range awkwardDirs {
		t.Run(strings.ReplaceAll(name, "\n", `\n`), func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "argv")
			prog := filepath.Join(dir, name, "kyso")
			stubs := filepath.Join(dir, "stubs")
			for p, body := range map[string]string{
				prog:                              "#!/bin/sh\nprintf '%s\\n' \"$0\" \"$@\" > \"$KYSO_TEST_OUT\"\n",
				filepath.Join(stubs, "systemctl"): "#!/bin/sh\nexit 1\n",
			} {
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			entry := filepath.Join(dir, "kyso.desktop")
			if err := os.WriteFile(entry, DesktopFile(prog), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("gio", "launch", entry)
			cmd.Env = append(os.Environ(), "PATH="+stubs+":/usr/bin:/bin", "KYSO_TEST_OUT="+out)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("gio launch: %v\n%s\n%s", err, b, DesktopFile(prog))
			}
			var got []byte
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				if b, err := os.ReadFile(out); err == nil && len(b) > 0 && b[len(b)-1] == '\n' {
					got = b
					break
				}
			}
			if want := prog + "\nserve\n"; string(got) != want {
				t.Fatalf("the entry ran %q, want %q\n%s", got, want, DesktopFile(prog))
			}
		})
	}
}

// The systemd unit's ExecStart names the same program, as systemd reads
// it: systemd-analyze verify resolves the program and fails when it does
// not exist. For paths systemd refuses as a program (quotes, backslashes,
// control characters) the program is /bin/sh and the path its argument,
// which verify cannot resolve: TestUnitExecWords pins those words.
func TestUnitExecQuoting(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed")
	}
	for _, name := range awkwardDirs {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			prog := filepath.Join(dir, name, "kyso")
			if err := os.MkdirAll(filepath.Dir(prog), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(prog, []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			unit := filepath.Join(dir, Unit)
			if err := os.WriteFile(unit, UnitFile(prog), 0o644); err != nil {
				t.Fatal(err)
			}
			b, err := exec.Command("systemd-analyze", "verify", "--man=no", unit).CombinedOutput()
			if err != nil || strings.Contains(string(b), "not executable") {
				t.Fatalf("systemd-analyze verify: %v\n%s\n%s", err, b, UnitFile(prog))
			}
			if strings.HasPrefix(unitExec(prog), "/bin/sh ") {
				return
			}
			// A missing program is reported: the check above means something.
			if err := os.Remove(prog); err != nil {
				t.Fatal(err)
			}
			if b, err := exec.Command("systemd-analyze", "verify", "--man=no", unit).CombinedOutput(); err == nil {
				t.Fatalf("systemd-analyze accepted a unit whose program is missing:\n%s", b)
			}
		})
	}
}

func TestUnitExecWords(t *testing.T) {
	for bin, want := range map[string]string{
		"/usr/bin/kyso":           "/usr/bin/kyso serve",
		"/opt/my kyso/kyso":       `"/opt/my kyso/kyso" serve`,
		"/opt/100%/$HOME/kyso":    `"/opt/100%%/$HOME/kyso" serve`,
		`/opt/it's/kyso`:          `/bin/sh -c "exec \"$$0\" serve" "/opt/it's/kyso"`,
		`/opt/a"b\c $x %n/kyso`:   `/bin/sh -c "exec \"$$0\" serve" "/opt/a\"b\\c $$x %%n/kyso"`,
		"/opt/new\nline\x01/kyso": `/bin/sh -c "exec \"$$0\" serve" "/opt/new\nline\x01/kyso"`,
	} {
		if got := unitExec(bin); got != want {
			t.Errorf("unitExec(%q) = %s, want %s", bin, got, want)
		}
	}
}
