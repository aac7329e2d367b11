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

	"kyso.vn/kyso/manifests"
	"kyso.vn/kyso/token"
)

// Text is a message in Vietnamese and English.
type Text struct{ VI, EN string }

// In picks the language.
func (t Text) In(vi bool) string {
	if vi && t.VI != "" {
		return t.VI
	}
	return t.EN
}

// Finding is one result of a doctor check.
type Finding struct {
	Check   string // a short id: "manifest/chrome", "port", …
	Level   Level
	Problem Text // what is wrong (or what is fine, for LevelOK)
	Fix     Text // what to do; empty when nothing to do
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
	User      Options // per-user scope (Home, Root)
	System    Options // all-users scope (Root)
	Binary    string  // the running kyso, to tell stale manifests
	Port      int
	Settings  func() error                 // engine.LoadSettings; its error names file and line
	Modules   func() []token.ModuleStatus  // the modules found and whether they loaded
	Tokens    func() ([]token.Info, error) // tokens present
	PortProbe func(port int) PortState     // who listens on Port
	Agent     func() error                 // nil when the agent's local socket answers
}

// Check is one doctor check.
type Check func(Env) []Finding

// Checks lists every check, in the order they are shown.
var Checks = []Check{CheckManifests, CheckAutostart, CheckSettings, CheckModules, CheckAgent, CheckLocalNetworkAccess}

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
				Problem: Text{VI: name + ": đã đăng ký (" + good[0] + ")", EN: name + ": registered (" + good[0] + ")"}})
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
			Problem: Text{
				VI: fmt.Sprintf("%s: chưa có tệp khai báo native messaging %s (không thấy ở %s); tiện ích Kyso không gọi được Kyso.", name, manifests.HostName(), where),
				EN: fmt.Sprintf("%s: no native-messaging manifest for %s (looked in %s); the Kyso extension cannot reach Kyso.", name, manifests.HostName(), where)},
			Fix: Text{VI: "Chạy: kyso install (hoặc với quyền quản trị: kyso install --system)",
				EN: "Run: kyso install (or, as administrator: kyso install --system)"}})
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
	reinstall := Text{VI: "Chạy lại: kyso install (hoặc kyso install --system nếu tệp nằm trong thư mục hệ thống)",
		EN: "Run again: kyso install (or kyso install --system when the file is in a system folder)"}
	fault := func(vi, en string) (Finding, bool) {
		return Finding{Check: id, Level: LevelFault,
			Problem: Text{VI: name + ": " + path + ": " + vi, EN: name + ": " + path + ": " + en}, Fix: reinstall}, true
	}
	if err != nil {
		return fault("không đọc được: "+err.Error(), "cannot be read: "+err.Error())
	}
	var m manifests.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return fault("không phải JSON hợp lệ: "+err.Error(), "is not valid JSON: "+err.Error())
	}
	if m.Name != manifests.HostName() || m.Type != "stdio" {
		return fault("sai tên máy chủ hoặc kiểu", "wrong host name or type")
	}
	if browser == Firefox {
		if !slices.Contains(m.AllowedExtensions, manifests.FirefoxID()) {
			return fault("không cho phép tiện ích "+manifests.FirefoxID(), "does not allow the extension "+manifests.FirefoxID())
		}
	} else {
		for _, want := range manifests.ChromiumOrigins() {
			if !slices.Contains(m.AllowedOrigins, want) {
				return fault("không cho phép tiện ích "+want, "does not allow the extension "+want)
			}
		}
	}
	prog := m.Path
	if !filepath.IsAbs(prog) {
		if !relativeHostPathOK {
			return fault("đường dẫn chương trình không tuyệt đối: "+m.Path, "the program path is not absolute: "+m.Path)
		}
		// Windows browsers resolve it against the manifest's folder.
		prog = filepath.Join(filepath.Dir(path), prog)
	}
	st, err := os.Stat(o.Real(prog))
	if err != nil || st.IsDir() || !executable(st) {
		return fault("trỏ tới chương trình không tồn tại: "+m.Path, "points at a program that does not exist: "+m.Path)
	}
	if bin != "" && !samePath(o.Real(prog), bin) {
		return Finding{Check: id, Level: LevelNote,
			Problem: Text{VI: name + ": " + path + " trỏ tới " + m.Path + ", không phải chương trình đang chạy (" + bin + ")",
				EN: name + ": " + path + " points at " + m.Path + ", not at this program (" + bin + ")"},
			Fix: Text{VI: "Nếu muốn dùng chương trình này, chạy: " + bin + " install",
				EN: "To use this program instead, run: " + bin + " install"}}, true
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
				Problem: Text{VI: "Tự khởi động khi đăng nhập: đã bật", EN: "Start at login: enabled"}}}
		}
	}
	return []Finding{{Check: "autostart", Level: LevelFault,
		Problem: Text{VI: "Kyso chưa được đặt tự khởi động khi đăng nhập", EN: "Kyso is not set to start at login"},
		Fix:     Text{VI: "Chạy: kyso install", EN: "Run: kyso install"}}}
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

// CheckSettings: the policy, config and approvals files parse.
func CheckSettings(env Env) []Finding {
	if env.Settings == nil {
		return nil
	}
	if err := env.Settings(); err != nil {
		return []Finding{{Check: "settings", Level: LevelFault,
			Problem: Text{VI: "Tệp chính sách/cấu hình lỗi, Kyso từ chối mọi trang cho tới khi sửa: " + err.Error(),
				EN: "A policy/config file is invalid; Kyso denies every page until it is fixed: " + err.Error()},
			Fix: Text{VI: "Sửa tệp và dòng nêu trên (JSON hợp lệ, khóa đúng tên), hoặc xóa tệp cấu hình của bạn",
				EN: "Correct the file and line named above (valid JSON, known keys), or remove your config file"}}}
	}
	return []Finding{{Check: "settings", Level: LevelOK,
		Problem: Text{VI: "Chính sách và cấu hình: hợp lệ", EN: "Policy and config: valid"}}}
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
				Problem: Text{VI: "Mô-đun PKCS#11 (" + m.Source + "): " + m.Path, EN: "PKCS#11 module (" + m.Source + "): " + m.Path}})
			continue
		}
		out = append(out, Finding{Check: "module", Level: LevelNote,
			Problem: Text{VI: "Mô-đun PKCS#11 không nạp được: " + errString(m.Err), EN: "PKCS#11 module did not load: " + errString(m.Err)}})
	}
	if loaded == 0 {
		return append(out, Finding{Check: "module", Level: LevelFault,
			Problem: Text{VI: "Không tìm thấy mô-đun PKCS#11 nào (trình điều khiển token)", EN: "No PKCS#11 module (token driver) found"},
			Fix: Text{VI: "Cài trình điều khiển của nhà cung cấp token, hoặc thêm đường dẫn tệp .so/.dll/.dylib vào \"modules\" trong config.json",
				EN: "Install your token vendor's driver, or add the path of its .so/.dll/.dylib under \"modules\" in config.json"}})
	}
	if env.Tokens == nil {
		return out
	}
	toks, err := env.Tokens()
	if err != nil || len(toks) == 0 {
		why := "không có token"
		whyEN := "none present"
		if err != nil {
			why, whyEN = err.Error(), err.Error()
		}
		return append(out, Finding{Check: "token", Level: LevelFault,
			Problem: Text{VI: "Không thấy token nào (" + why + ")", EN: "No token seen (" + whyEN + ")"},
			Fix:     Text{VI: "Cắm token USB vào máy rồi chạy lại kyso doctor", EN: "Plug in your USB token and run kyso doctor again"}})
	}
	for _, t := range toks {
		out = append(out, Finding{Check: "token", Level: LevelOK,
			Problem: Text{VI: fmt.Sprintf("Token: %s (%s %s, số sê-ri %s)", t.Label, t.Manufacturer, t.Model, t.SerialNumber),
				EN: fmt.Sprintf("Token: %s (%s %s, serial %s)", t.Label, t.Manufacturer, t.Model, t.SerialNumber)}})
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
		return []Finding{{Check: "port", Level: LevelFault,
			Problem: Text{VI: fmt.Sprintf("Cổng %d đang bị một chương trình khác chiếm; trang web không kết nối được Kyso qua WebSocket", env.Port),
				EN: fmt.Sprintf("Port %d is taken by another program; pages cannot reach Kyso over WebSocket", env.Port)},
			Fix: Text{VI: "Tìm và dừng chương trình đó: " + portHint(env.Port), EN: "Find and stop that program: " + portHint(env.Port)}}}
	case running || state == PortKyso:
		return []Finding{{Check: "agent", Level: LevelOK,
			Problem: Text{VI: fmt.Sprintf("Tác tử Kyso đang chạy (cổng %d)", env.Port), EN: fmt.Sprintf("The Kyso agent is running (port %d)", env.Port)}}}
	}
	return []Finding{{Check: "agent", Level: LevelFault,
		Problem: Text{VI: "Tác tử Kyso không chạy (trang web chỉ dùng được Kyso qua tiện ích)", EN: "The Kyso agent is not running (pages can use Kyso only through the extension)"},
		Fix:     Text{VI: "Khởi động: " + startHint(), EN: "Start it: " + startHint()}}}
}

// CheckLocalNetworkAccess is a note, never a fault: Chrome and Edge ask the
// user once per site before a public page may reach 127.0.0.1.
func CheckLocalNetworkAccess(Env) []Finding {
	return []Finding{{Check: "local-network-access", Level: LevelNote,
		Problem: Text{VI: "Chrome/Edge hỏi người dùng một lần cho mỗi trang trước khi trang được kết nối tới 127.0.0.1 (quyền \"truy cập mạng cục bộ\"); tiện ích Kyso không cần quyền này",
			EN: "Chrome/Edge ask once per site before a public page may reach 127.0.0.1 (\"local network access\"); the Kyso extension path does not need it"},
		Fix: Text{VI: "Quản trị viên có thể cho phép trước bằng chính sách LocalNetworkAccessAllowedForUrls (xem docs/admin.md)",
			EN: "Administrators can pre-allow sites with the LocalNetworkAccessAllowedForUrls policy (see docs/admin.md)"}}}
}
