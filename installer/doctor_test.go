package installer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kyso.vn/kyso/internal/filetrust"
	"kyso.vn/kyso/token"
)

func goodEnv(t *testing.T) Env {
	t.Helper()
	root := t.TempDir()
	bin := "/usr/bin/kyso"
	if err := os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "usr/bin/kyso"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	o := Options{System: true, Root: root, Binary: bin}
	if _, _, err := Install(o); err != nil {
		t.Fatal(err)
	}
	return Env{
		User:     Options{Root: root, Home: "/home/tester", Binary: bin},
		System:   o,
		Port:     28418,
		Settings: func() error { return nil },
		Modules: func() []token.ModuleStatus {
			return []token.ModuleStatus{{Path: "/usr/lib/x.so", Source: token.SourceVendor, Loaded: true}}
		},
		Tokens:    func() ([]token.Info, error) { return []token.Info{{Label: "Kyso Test"}}, nil },
		PortProbe: func(int) PortState { return PortKyso },
		Agent:     func() error { return nil },
	}
}

func faults(fs []Finding) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Level == LevelFault {
			out = append(out, f)
		}
	}
	return out
}

func TestDoctorAllGood(t *testing.T) {
	fs, ok := Diagnose(goodEnv(t))
	if !ok {
		t.Fatalf("faults: %+v", faults(fs))
	}
}

func TestDoctorFaults(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(*Env)
		check  string
		want   []string // in the English problem and fix
	}{
		{"missing manifest", func(e *Env) {
			os.Remove(e.System.Real("/etc/chromium/native-messaging-hosts/vn.kyso.signer.json"))
		}, "manifest/chromium", []string{"Chromium: no native-messaging manifest", "Run: kyso install"}},
		{"manifest to a missing program", func(e *Env) {
			os.Remove(e.System.Real("/usr/bin/kyso"))
		}, "manifest/firefox", []string{"points at a program that does not exist: /usr/bin/kyso", "kyso install"}},
		{"bad policy", func(e *Env) {
			e.Settings = func() error { return errors.New("/etc/kyso/policy.json:3: invalid JSON") }
		}, "settings", []string{"/etc/kyso/policy.json:3", "Correct the file and line"}},
		{"planted policy", func(e *Env) {
			e.Settings = func() error {
				return fmt.Errorf("the system policy is not used: %w", &filetrust.Error{Path: "/etc/kyso/policy.json",
					Object: "/etc/kyso", Problem: filetrust.NotOwned, Who: "uid 1000", Owners: filetrust.Admins})
			}
		}, "settings", []string{"The system policy /etc/kyso/policy.json is not used: /etc/kyso belongs to uid 1000, not to the administrators", "sudo chown root"}},
		{"policy writable by others", func(e *Env) {
			e.Settings = func() error {
				return &filetrust.Error{Path: `C:\ProgramData\Kyso\policy.json`, Object: `C:\ProgramData\Kyso`,
					Problem: filetrust.Writable, Who: `BUILTIN\Users (S-1-5-32-545)`, Detail: "access 0x1301bf"}
			}
		}, "settings", []string{`C:\ProgramData\Kyso can be changed or replaced by BUILTIN\Users (S-1-5-32-545) (access 0x1301bf)`, "icacls"}},
		{"no module", func(e *Env) {
			e.Modules = func() []token.ModuleStatus { return nil }
		}, "module", []string{"No PKCS#11 module", "modules"}},
		{"no token", func(e *Env) {
			e.Tokens = func() ([]token.Info, error) { return nil, nil }
		}, "token", []string{"No token seen", "Plug in"}},
		{"port taken", func(e *Env) {
			e.Agent = func() error { return errors.New("no socket") }
			e.PortProbe = func(int) PortState { return PortOther }
		}, "port", []string{"Port 28418 is taken by another program", "ss -ltnp"}},
		{"agent down", func(e *Env) {
			e.Agent = func() error { return errors.New("no socket") }
			e.PortProbe = func(int) PortState { return PortFree }
		}, "agent", []string{"not running", "systemctl --user start kyso.service"}},
		{"no autostart", func(e *Env) {
			os.Remove(e.System.Real("/etc/systemd/user/graphical-session.target.wants/kyso.service"))
		}, "autostart", []string{"not set to start at login", "kyso install"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := goodEnv(t)
			c.break_(&env)
			fs, ok := Diagnose(env)
			if ok {
				t.Fatal("doctor found nothing wrong")
			}
			var hit *Finding
			for _, f := range faults(fs) {
				if f.Check == c.check && hit == nil {
					hit = &f
				}
			}
			if hit == nil {
				t.Fatalf("no %s fault in %+v", c.check, faults(fs))
			}
			text := hit.Problem.EN + "\n" + hit.Fix.EN
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Fatalf("fault %q lacks %q", text, w)
				}
			}
			if hit.Problem.VI == "" || hit.Fix.VI == "" {
				t.Fatalf("no Vietnamese text: %+v", hit)
			}
		})
	}
}

// A key only the system policy may set, in the user's config: a note, not
// a fault (it has no effect).
func TestDoctorSystemOnlyKey(t *testing.T) {
	env := goodEnv(t)
	env.IgnoredKeys = func() []IgnoredKey {
		return []IgnoredKey{{Where: "/home/an/.config/kyso/config.json:3", Key: "timestampUrl"}}
	}
	fs, ok := Diagnose(env)
	if !ok {
		t.Fatalf("faults: %+v", faults(fs))
	}
	for _, f := range fs {
		if f.Level == LevelNote && strings.Contains(f.Problem.EN, `/home/an/.config/kyso/config.json:3 sets "timestampUrl", which only`) &&
			strings.Contains(f.Problem.VI, "bị bỏ qua") {
			return
		}
	}
	t.Fatalf("no note about timestampUrl: %+v", fs)
}
