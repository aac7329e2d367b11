package installer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"kyso.vn/kyso/internal/filetrust"
	"kyso.vn/kyso/manifests"
	"kyso.vn/kyso/messages"
	"kyso.vn/kyso/token"
)

// Finding is one result of a doctor check.
type Finding struct {
	Check   string // a short id: "manifest/chrome", "port", …
	Level   Level
	Problem messages.Text // what is wrong (or what is fine, for LevelOK)
	Fix     messages.Text // what to do; empty when nothing to do
}

// Level of a finding. Only LevelFault makes the doctor fail.
type Level int

const (
	LevelOK Level = iota
	LevelNote
	LevelFault
)

// PortState is what listens on the agent's port.
type PortState int

const (
	PortFree  PortState = iota // nothing: the agent is not running
	PortKyso                   // a Kyso agent
	PortOther                  // another program
)

// Env is what the checks look at. The functions are the real ones in the
// kyso command and fakes (or real parts on a temporary tree) in tests.
type Env struct {
	User     Options // per-user scope (Home, Root)
	System   Options // all-users scope (Root)
	Binary   string  // the running kyso, to tell stale manifests
	Port     int
	Settings func() error // engine.LoadSettings; its error names file and line
	// IgnoredKeys: the keys of the user's config that only the system
	// policy may set (engine.Settings.IgnoredUserKeys).
	IgnoredKeys func() []IgnoredKey
	Modules     func() []token.ModuleStatus  // the modules found and whether they loaded
	Tokens      func() ([]token.Info, error) // tokens present
	PortProbe   func(port int) PortState     // who listens on Port
	// PortHolders names the programs listening on Port that are not a
	// Kyso agent of this user (nil: not known on this OS).
	PortHolders func(port int) []PortHolder
	Agent       func() error // nil when the agent's local socket answers
	Dialog      func() error // nil when a dialog can be shown (DialogAvailable)
}

// IgnoredKey is a key of the user's config that only the system policy may
// set: Where is the file and line ("config.json:2"), Key the key.
type IgnoredKey struct {
	Where, Key string
}

// PortHolder is a program holding the agent's port, as the doctor names
// it: its path (or "" when the OS does not tell), process id (0: not
// known) and user.
type PortHolder struct {
	Exe  string
	PID  int
	User string
}

// Check is one doctor check.
type Check func(Env) []Finding

// Checks lists every check, in the order they are shown.
var Checks = []Check{CheckManifests, CheckAutostart, CheckSettings, CheckModules, CheckAgent, CheckDialog, CheckLocalNetworkAccess}

// Diagnose runs every check. ok is false when any finding is a fault.
func Diagnose(env Env) (findings []Finding, ok bool) {
	ok = true
	for _, c := range Checks {
		for _, f := range c(env) {
			if f.Level == LevelFault {
				ok = false
			}
			findings = append(findings, f)
		}
	}
	return findings, ok
}

// BrowserName is a family's name for people.
var BrowserName = map[string]string{
	Chrome: "Google Chrome", Chromium: "Chromium", Edge: "Microsoft Edge", Brave: "Brave", Firefox: "Firefox",
}

// manifestCandidates lists, per browser, where a manifest may be found for
// one scope: the file itself, or (Windows) the file the registry names.
func manifestCandidates(o Options) (map[string][]string, map[string]string) {
	files := map[string][]string{}
	missingKey := map[string]string{}
	items, err := Plan(o)
	if err != nil {
		return files, missingKey
	}
	viaRegistry := map[string]bool{}
	for _, it := range items {
		if it.Kind == KindRegistry && it.Purpose == PurposeRegistry {
			for _, b := range it.Browsers {
				viaRegistry[b] = true
				v, err := RegistryValue(o, it.Hive, it.Key, it.Name)
				if err != nil || v == "" {
					missingKey[b] = it.Hive + `\` + it.Key
					continue
				}
				files[b] = append(files[b], v)
			}
		}
	}
	for _, it := range items {
		if it.Kind == KindFile && it.Purpose == PurposeManifest {
			for _, b := range it.Browsers {
				if !viaRegistry[b] {
					files[b] = append(files[b], it.Path)
				}
			}
		}
	}
	return files, missingKey
}

// CheckManifests: every browser family finds a manifest, in the user's or the
// system's place, that names vn.kyso.signer, points at an existing program
// and allows the Kyso extension.
func CheckManifests(env Env) []Finding {
	var out []Finding
	uf, umiss := manifestCandidates(env.User)
	sf, smiss := manifestCandidates(env.System)
	for _, b := range Browsers {
		id := "manifest/" + b
		name := BrowserName[b]
		var good []string
		var bad []Finding
		for _, pair := range []struct {
			o     Options
			paths []string
		}{{env.User, uf[b]}, {env.System, sf[b]}} {
			for _, p := range pair.paths {
				f, found := checkManifest(pair.o, b, p, env.Binary)
				if !found {
					continue
				}
				if f.Level == LevelFault {
					bad = append(bad, f)
				} else {
					good = append(good, p)
					if f.Level == LevelNote {
						out = append(out, f)
					}
				}
			}
		}
		out = append(out, bad...)
		if len(good) > 0 {
			out = append(out, Finding{Check: id, Level: LevelOK,
				Problem: messages.DoctorManifestOK.With(name, good[0])})
			continue
		}
		if len(bad) > 0 {
			continue
		}
		where := strings.Join(append(slices.Clone(uf[b]), sf[b]...), ", ")
		if k := umiss[b]; k != "" && where == "" {
			where = k
		}
		_ = smiss
		out = append(out, Finding{Check: id, Level: LevelFault,
			Problem: messages.DoctorManifestMissing.With(name, manifests.HostName(), where),
			Fix:     messages.DoctorManifestMissingFix})
	}
	return out
}

// checkManifest checks one manifest file. found is false when it does not exist.
func checkManifest(o Options, browser, path, bin string) (Finding, bool) {
	id := "manifest/" + browser
	name := BrowserName[browser]
	b, err := os.ReadFile(o.Real(path))
	if errors.Is(err, fs.ErrNotExist) {
		return Finding{}, false
	}
	// A fault is "browser: file: what is wrong", with the same fix.
	fault := func(m messages.Text, args ...any) (Finding, bool) {
		what := m.With(args...)
		prefix := name + ": " + path + ": "
		return Finding{Check: id, Level: LevelFault,
			Problem: messages.Text{VI: prefix + what.VI, EN: prefix + what.EN}, Fix: messages.DoctorManifestReinstall}, true
	}
	if err != nil {
		return fault(messages.DoctorManifestUnreadable, err.Error())
	}
	var m manifests.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return fault(messages.DoctorManifestNotJSON, err.Error())
	}
	if m.Name != manifests.HostName() || m.Type != "stdio" {
		return fault(messages.DoctorManifestWrongName)
	}
	if browser == Firefox {
		if ff := o.Identity().Firefox.ID; !slices.Contains(m.AllowedExtensions, ff) {
			return fault(messages.DoctorManifestNotAllowed, ff)
		}
	} else {
		for _, want := range manifests.Origins(o.ChromiumIDs()) {
			if !slices.Contains(m.AllowedOrigins, want) {
				return fault(messages.DoctorManifestNotAllowed, want)
			}
		}
	}
	prog := m.Path
	if !filepath.IsAbs(prog) {
		if !relativeHostPathOK {
			return fault(messages.DoctorManifestRelative, m.Path)
		}
		// Windows browsers resolve it against the manifest's folder.
		prog = filepath.Join(filepath.Dir(path), prog)
	}
	st, err := os.Stat(o.Real(prog))
	if err != nil || st.IsDir() || !executable(st) {
		return fault(messages.DoctorManifestNoProgram, m.Path)
	}
	if bin != "" && !samePath(o.Real(prog), bin) {
		return Finding{Check: id, Level: LevelNote,
			Problem: messages.DoctorManifestOther.With(name, path, m.Path, bin),
			Fix:     messages.DoctorManifestOtherFix.With(bin)}, true
	}
	return Finding{Check: id, Level: LevelOK}, true
}

func samePath(a, b string) bool {
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	if err1 != nil || err2 != nil {
		return a == b
	}
	return ra == rb
}

// CheckAutostart: the agent starts at login, for this user or for all.
func CheckAutostart(env Env) []Finding {
	pkg := env.System
	pkg.Package = true // a distribution package's layout (Linux)
	for _, o := range []Options{env.User, env.System, pkg} {
		if autostartPresent(o) {
			return []Finding{{Check: "autostart", Level: LevelOK,
				Problem: messages.DoctorAutostartOK}}
		}
	}
	return []Finding{{Check: "autostart", Level: LevelFault,
		Problem: messages.DoctorAutostartMissing,
		Fix:     messages.DoctorAutostartFix}}
}

func autostartPresent(o Options) bool {
	items, err := Plan(o)
	if err != nil {
		return false
	}
	n := 0
	for _, it := range items {
		if it.Purpose != PurposeAutostart {
			continue
		}
		n++
		switch it.Kind {
		case KindRegistry:
			if v, err := RegistryValue(o, it.Hive, it.Key, it.Name); err != nil || v == "" {
				return false
			}
		default:
			if _, err := os.Lstat(o.Real(it.Path)); err != nil {
				return false
			}
		}
	}
	return n > 0
}

// CheckSettings: the policy, config and approvals files parse, the system
// policy is one only administrators could have written, and the user's
// config sets no key that only the system policy may set.
func CheckSettings(env Env) []Finding {
	if env.Settings == nil {
		return nil
	}
	if err := env.Settings(); err != nil {
		var fe *filetrust.Error
		if errors.As(err, &fe) {
			return []Finding{untrustedPolicy(fe)}
		}
		return []Finding{{Check: "settings", Level: LevelFault,
			Problem: messages.DoctorSettingsBad.With(err.Error()),
			Fix:     messages.DoctorSettingsBadFix}}
	}
	out := []Finding{{Check: "settings", Level: LevelOK,
		Problem: messages.DoctorSettingsOK}}
	if env.IgnoredKeys != nil {
		for _, k := range env.IgnoredKeys() {
			out = append(out, Finding{Check: "settings", Level: LevelNote,
				Problem: messages.DoctorSystemOnlyKey.With(k.Where, k.Key),
				Fix:     messages.DoctorSystemOnlyKeyFix})
		}
	}
	return out
}

// untrustedPolicy says which file or folder of the system policy another
// account could change, and how.
func untrustedPolicy(fe *filetrust.Error) Finding {
	var p messages.Text
	switch fe.Problem {
	case filetrust.NotOwned:
		p = messages.DoctorPolicyNotOwned.With(fe.Path, fe.Object, fe.Who, fe.Owners.Names())
	case filetrust.Writable:
		who := messages.Text{VI: fe.Who, EN: fe.Who}
		if fe.Who == filetrust.OtherUsers {
			who = messages.DoctorOtherUsers
		} else if gid, ok := strings.CutPrefix(fe.Who, filetrust.GroupPrefix); ok {
			who = messages.DoctorGroup.With(gid)
		}
		w := messages.DoctorPolicyWritable
		p = messages.Text{VI: fmt.Sprintf(w.VI, fe.Path, fe.Object, who.VI, fe.Detail),
			EN: fmt.Sprintf(w.EN, fe.Path, fe.Object, who.EN, fe.Detail)}
	case filetrust.NotRegular:
		p = messages.DoctorPolicyNotRegular.With(fe.Path, fe.Object)
	default:
		p = messages.DoctorPolicyUnchecked.With(fe.Path, fe.Object, fmt.Sprint(fe.Err))
	}
	return Finding{Check: "settings", Level: LevelFault, Problem: p, Fix: messages.DoctorPolicyTrustFix}
}

// CheckModules: at least one PKCS#11 module loads, and a token is present.
func CheckModules(env Env) []Finding {
	if env.Modules == nil {
		return nil
	}
	var out []Finding
	loaded := 0
	for _, m := range env.Modules() {
		if m.Loaded {
			loaded++
			out = append(out, Finding{Check: "module", Level: LevelOK,
				Problem: messages.DoctorModuleOK.With(m.Source, m.Path)})
			continue
		}
		out = append(out, Finding{Check: "module", Level: LevelNote,
			Problem: messages.DoctorModuleFailed.With(errString(m.Err))})
	}
	if loaded == 0 {
		return append(out, Finding{Check: "module", Level: LevelFault,
			Problem: messages.DoctorNoModule,
			Fix:     messages.DoctorNoModuleFix})
	}
	if env.Tokens == nil {
		return out
	}
	toks, err := env.Tokens()
	if err != nil || len(toks) == 0 {
		problem := messages.DoctorNoToken
		if err != nil {
			problem = messages.DoctorNoTokenErr.With(err.Error())
		}
		return append(out, Finding{Check: "token", Level: LevelFault,
			Problem: problem,
			Fix:     messages.DoctorNoTokenFix})
	}
	for _, t := range toks {
		out = append(out, Finding{Check: "token", Level: LevelOK,
			Problem: messages.DoctorTokenOK.With(t.Label, t.Manufacturer, t.Model, t.SerialNumber)})
	}
	return out
}

func errString(err error) string {
	if err == nil {
		return "?"
	}
	return err.Error()
}

// CheckAgent: the agent runs and holds its port.
func CheckAgent(env Env) []Finding {
	var running bool
	if env.Agent != nil {
		running = env.Agent() == nil
	}
	state := PortFree
	if env.PortProbe != nil {
		state = env.PortProbe(env.Port)
	}
	switch {
	case state == PortOther:
		problem := messages.DoctorPortTaken.With(env.Port)
		var holders []PortHolder
		if env.PortHolders != nil {
			holders = env.PortHolders(env.Port)
		}
		for i, h := range holders {
			user := h.User
			if user == "" {
				user = "?"
			}
			t := messages.DoctorPortHeldBy.With(env.Port, h.Exe, h.PID, user)
			if h.Exe == "" {
				t = messages.DoctorPortHeldByUnknown.With(env.Port, h.PID, user)
			}
			if i == 0 {
				problem = t
			} else {
				problem = messages.Text{VI: problem.VI + "; " + t.VI, EN: problem.EN + "; " + t.EN}
			}
		}
		return []Finding{{Check: "port", Level: LevelFault,
			Problem: problem,
			Fix:     messages.DoctorPortTakenFix.With(portHint(env.Port))}}
	case running || state == PortKyso:
		return []Finding{{Check: "agent", Level: LevelOK,
			Problem: messages.DoctorAgentOK.With(env.Port)}}
	}
	return []Finding{{Check: "agent", Level: LevelFault,
		Problem: messages.DoctorAgentDown,
		Fix:     messages.DoctorAgentDownFix.With(startHint())}}
}

// DialogError says why no dialog can be shown here (DialogAvailable, per
// OS), and what to do about it.
type DialogError struct{ Problem, Fix messages.Text }

func (e *DialogError) Error() string { return e.Problem.EN }

// CheckDialog: the consent and PIN dialogs can be shown from here (Linux:
// zenity and a display; Windows: an interactive session; macOS: the Aqua
// session). Without them every request that needs the person fails, so it
// is a fault. It looks at doctor's own session, which is the agent's when
// both run in the desktop session.
func CheckDialog(env Env) []Finding {
	if env.Dialog == nil {
		return nil
	}
	err := env.Dialog()
	if err == nil {
		return []Finding{{Check: "dialog", Level: LevelOK, Problem: messages.DoctorDialogOK}}
	}
	var de *DialogError
	if !errors.As(err, &de) {
		de = dialogOther(err)
	}
	return []Finding{{Check: "dialog", Level: LevelFault, Problem: de.Problem, Fix: de.Fix}}
}

// dialogOther: the check itself failed.
func dialogOther(err error) *DialogError {
	return &DialogError{messages.DoctorDialogOther.With(err.Error()), messages.DoctorDialogOtherFix}
}

// CheckLocalNetworkAccess is a note, never a fault: Chrome and Edge ask the
// user once per site before a public page may reach 127.0.0.1.
func CheckLocalNetworkAccess(Env) []Finding {
	return []Finding{{Check: "local-network-access", Level: LevelNote,
		Problem: messages.DoctorLNA,
		Fix:     messages.DoctorLNAFix}}
}
