//go:build linux && cgo

package security

// Another local user plants the system policy (SECURITY.md, "Another local
// user"): a policy.json, or a folder above it, that an account other than
// root owns or may write, or a link to one. The shipped binary reads the
// system policy at a fixed path (/etc/kyso/policy.json) with no override,
// so each agent runs in a mount namespace of its own where /etc is the
// real /etc with a test's kyso folder laid over it (overlayfs): the
// machine's /etc, and every other test's agent, never see it. A refused
// policy leaves the agent on the default port (the user's config is not
// read for it either), so the agent also gets a network namespace of its
// own, and the test asks it over its local socket, as the extension does.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"kyso.vn/kyso/internal/testenv"
	"kyso.vn/kyso/internal/wire"
)

// localCall sends one request on the agent's local socket as the
// extension's host relays it (the origin established by the browser), and
// reads the answer.
func localCall(t *testing.T, a *testenv.Agent, origin string, r any) response {
	t.Helper()
	body, _ := json.Marshal(r)
	m := askLocal(t, a, wire.Message{Kind: wire.Request, Tag: 7, Origin: origin, Body: body})
	var resp response
	if err := json.Unmarshal(m.Body, &resp); err != nil {
		t.Fatalf("answer %q: %v", m.Body, err)
	}
	return resp
}

// withSystemPolicy returns the AgentOptions.Wrap that runs kyso with etc
// (a folder standing for /etc: it holds kyso/policy.json) laid over /etc.
// It skips the test when the namespace or overlayfs is not available (not
// root, or a container without them).
func withSystemPolicy(t *testing.T, etc string) []string {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root for a mount namespace")
	}
	work := filepath.Join(filepath.Dir(etc), "work")
	if err := os.MkdirAll(work, 0o700); err != nil {
		t.Fatal(err)
	}
	mount := "mount -t overlay overlay -o lowerdir=/etc,upperdir=" + etc + ",workdir=" + work + " /etc"
	ns := []string{"unshare", "--mount", "--net", "--propagation", "private", "sh", "-c"}
	if out, err := exec.Command(ns[0], append(ns[1:], mount)...).CombinedOutput(); err != nil {
		t.Skipf("no mount and network namespace with overlayfs here: %v %s", err, out)
	}
	return append(ns, mount+` && exec "$@"`, "sh")
}

func TestPlantedSystemPolicy(t *testing.T) {
	// The planted policy also lists an extension of the attacker's, which
	// kyso host must then refuse as a caller (extensionIds is read from
	// the system policy alone, and only from a trusted one).
	const evilExt = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
	const planted = `{"allowedOrigins": ["https://evil.example"], "userApproval": false, "extensionIds": ["` + evilExt + `"]}`
	cases := []struct {
		name  string
		plant func(t *testing.T, etc, outside string)
		vi    string // what kyso doctor says, in Vietnamese
		en    string // and in English
	}{
		{"owned by another user", func(t *testing.T, etc, _ string) {
			os.Chown(filepath.Join(etc, "kyso", "policy.json"), 65534, 65534)
		}, "Không dùng chính sách hệ thống /etc/kyso/policy.json: /etc/kyso/policy.json thuộc về uid 65534, không phải quản trị viên (root)",
			"The system policy /etc/kyso/policy.json is not used: /etc/kyso/policy.json belongs to uid 65534, not to the administrators (root)"},
		{"writable by others", func(t *testing.T, etc, _ string) {
			os.Chmod(filepath.Join(etc, "kyso", "policy.json"), 0o666)
		}, "/etc/kyso/policy.json có thể bị người dùng khác sửa hoặc thay (mode 0666)",
			"/etc/kyso/policy.json can be changed or replaced by other users (mode 0666)"},
		{"folder writable by a group", func(t *testing.T, etc, _ string) {
			os.Chown(filepath.Join(etc, "kyso"), 0, 65534)
			os.Chmod(filepath.Join(etc, "kyso"), 0o775)
		}, "/etc/kyso có thể bị nhóm 65534 sửa hoặc thay (mode 0775)",
			"/etc/kyso can be changed or replaced by group 65534 (mode 0775)"},
		{"link to another user's file", func(t *testing.T, etc, outside string) {
			theirs := filepath.Join(outside, "policy.json")
			os.WriteFile(theirs, []byte(planted), 0o644)
			os.Chown(theirs, 65534, 65534)
			os.Remove(filepath.Join(etc, "kyso", "policy.json"))
			os.Symlink(theirs, filepath.Join(etc, "kyso", "policy.json"))
		}, "outside/policy.json thuộc về uid 65534", "outside/policy.json belongs to uid 65534"},
		{"trusted root-owned 0644", func(t *testing.T, etc, _ string) {}, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			etc, outside := filepath.Join(root, "etc"), filepath.Join(root, "outside")
			for _, d := range []string{etc, filepath.Join(etc, "kyso"), outside} {
				os.MkdirAll(d, 0o755)
				os.Chmod(d, 0o755)
			}
			if err := os.WriteFile(filepath.Join(etc, "kyso", "policy.json"), []byte(planted), 0o644); err != nil {
				t.Fatal(err)
			}
			c.plant(t, etc, outside)
			tk := tokens(t)
			a := testenv.StartAgent(t, testenv.AgentOptions{Tokens: tk, Wrap: withSystemPolicy(t, etc), LocalOnly: true,
				Config: map[string]any{"allowedOrigins": []string{portal}, "modules": []string{tk.Module}}})

			// A trusted policy allows only its own origin (userApproval
			// false); a refused one, nothing at all.
			trusted := c.vi == ""
			for origin, want := range map[string]string{"https://evil.example": "ORIGIN_DENIED", portal: "ORIGIN_DENIED"} {
				if trusted && origin == "https://evil.example" {
					want = ""
				}
				if r := localCall(t, a, origin, req("v", "version", nil)); string(r.Code()) != want {
					t.Fatalf("%s: %q %+v, want %q", origin, r.Code(), r.Error, want)
				}
			}

			for lang, want := range map[string]string{"vi": c.vi, "en": c.en} {
				cmd := a.Command("doctor", "--config", a.Config)
				cmd.Env = append(cmd.Env, "LANG="+map[string]string{"vi": "vi_VN.UTF-8", "en": "en_US.UTF-8"}[lang])
				out, _ := cmd.CombinedOutput()
				switch {
				case trusted && strings.Contains(string(out), "/etc/kyso"):
					t.Fatalf("doctor (%s) complains of a trusted policy:\n%s", lang, out)
				case !trusted && !strings.Contains(string(out), want):
					t.Fatalf("doctor (%s) lacks %q:\n%s", lang, want, out)
				}
			}
			// kyso host as Chrome starts it for that extension (stdin
			// closed: a trusted caller ends at once).
			host := a.Command("host", "chrome-extension://"+evilExt+"/")
			out, err := host.CombinedOutput()
			refused := strings.Contains(string(out), "is not the Kyso extension")
			if trusted == refused {
				t.Fatalf("kyso host for the policy's extension (policy trusted: %v): %v\n%s", trusted, err, out)
			}
			if !trusted && !strings.Contains(a.Log(), "is not used") {
				t.Errorf("the agent does not log why:\n%s", a.Log())
			}
		})
	}
}

// A module the system policy names runs inside every user's Kyso, so it
// must be an administrator's file, like the policy itself; a module in a
// user's own config may be that user's. Run as another account (uid
// 65534) owning the module: `kyso tokens` loads it from the user's config
// and refuses it from the system policy.
func TestPolicyModuleMustBeAdmins(t *testing.T) {
	// Not t.TempDir: its parent is root's, mode 0700, and the other
	// account must reach its folder.
	root, err := os.MkdirTemp("", "kyso-module-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	os.Chmod(root, 0o755)
	home := filepath.Join(root, "home")
	theirs := filepath.Join(home, "lib")
	for _, d := range []string{home, theirs, filepath.Join(home, "tokens")} {
		os.MkdirAll(d, 0o755)
		os.Chown(d, 65534, 65534)
	}
	src := testenv.FindSoftHSM()
	if src == "" {
		t.Skip("SoftHSM2 not installed")
	}
	module := filepath.Join(theirs, "libvendor.so")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(module, b, 0o755)
	os.Chown(module, 65534, 65534)
	// An empty SoftHSM token store of theirs: the module initialises.
	conf := filepath.Join(home, "softhsm2.conf")
	os.WriteFile(conf, []byte("directories.tokendir = "+filepath.Join(home, "tokens")+"\nobjectstore.backend = file\n"), 0o644)
	kyso := filepath.Join(root, "kyso")
	if b, err = os.ReadFile(testenv.KysoBinary(t)); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(kyso, b, 0o755)
	config := filepath.Join(home, "config.json")

	tokensAs := func(t *testing.T, system, user string) string {
		t.Helper()
		etc := filepath.Join(t.TempDir(), "etc")
		os.MkdirAll(filepath.Join(etc, "kyso"), 0o755)
		os.Chmod(etc, 0o755)
		os.WriteFile(filepath.Join(etc, "kyso", "policy.json"), []byte(system), 0o644)
		os.WriteFile(config, []byte(user), 0o644)
		os.Chown(config, 65534, 65534)
		argv := append(withSystemPolicy(t, etc), "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			kyso, "tokens", "--config", config)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "LANG=en_US.UTF-8", "SOFTHSM2_CONF=" + conf,
			"XDG_CONFIG_HOME=" + home, "XDG_CACHE_HOME=" + home, "XDG_RUNTIME_DIR=" + home}
		out, _ := cmd.CombinedOutput() // exit 1: no token
		return string(out)
	}
	mods := `{"modules": ["` + module + `"]}`
	if out := tokensAs(t, `{}`, mods); !strings.Contains(out, "[loaded] "+module+" (config)") {
		t.Fatalf("their own module, from their config, not loaded:\n%s", out)
	}
	out := tokensAs(t, mods, `{}`)
	if !strings.Contains(out, "[failed] "+module+" (policy): module "+module+": "+module+" belongs to uid 65534, not to root") {
		t.Fatalf("a module of another account than root, from the system policy, not refused:\n%s", out)
	}
}
