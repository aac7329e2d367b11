// Package e2e_test drives the whole Kyso path in a real browser: the demo
// portal's page → kyso.js → the Kyso extension → `kyso host` (native
// messaging) or the WebSocket agent → the engine → SoftHSM2 → the real zenity
// dialogs answered with xdotool → the signature verified by the portal's
// server. Debian's Chromium runs under Xvfb with a fresh profile, HOME and
// XDG dirs per test, so nothing touches the real user's config.
package e2e_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"

	"kyso.vn/kyso/demo/portal"
	"kyso.vn/kyso/internal/extid"
	"kyso.vn/kyso/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const chromiumPath = "/usr/bin/chromium"

// Titles of Kyso's dialogs (DESIGN: they begin with "Kyso"; the PIN one
// contains "PIN").
const (
	kysoTitle = "^Kyso"
	pinTitle  = "Kyso.*PIN"
)

// world is one test's desktop: a display, a home with Kyso's config, a copy
// of the demo token, the portal, and (when asked) the agent and the browser.
type world struct {
	t       *testing.T
	root    string // repository root
	display string
	kyso    string // the kyso binary
	dir     string
	home    string
	env     []string // the environment of kyso serve and of Chromium (and so of kyso host)
	portal  string   // http://localhost:PORT
	port    int      // the agent's WebSocket port (config "port")
	ctx     context.Context
	log     *bytes.Buffer // Chromium's output, shown when a test fails
	logMu   sync.Mutex
	pin     string // the tokens' PIN, typed into the PIN dialog
	udd     string // Chromium's profile (user data) dir
	headed  bool   // Chromium shows its window (and its permission prompts)
	// extensionID is the Kyso extension's id in this browser: the pinned
	// one of the unpacked build, or a self-hosted build's (setup.managed).
	extensionID string
	sys         *sysOverlay // system files of this test (nil: the machine's)
	// teardown runs once the browser and the agent have stopped, before
	// the test's dir is removed (e.g. to look through what they left).
	teardown []func()
}

type setup struct {
	extension bool // load extension/build/chromium
	agent     bool // run `kyso serve`
	native    bool // register the native-messaging host
	// public serves the portal over https as https://dichvucong.test:PORT
	// from an address Chromium treats as public, so Local Network Access
	// gates its WebSocket to the agent (lna_test.go); publicPorts are more
	// 127.0.0.1 ports (other test sites) to treat as public.
	public      bool
	publicPorts []int
	headed      bool // a visible browser window (on the test's Xvfb display), which shows permission prompts
	// Optional (hostile_test.go):
	config map[string]any                 // keys set in Kyso's user config (allowedOrigins: added to the portal)
	flags  []chromedp.ExecAllocatorOption // more Chromium options
	tokens *testenv.Tokens                // token set to copy (nil: the shared one, PIN testenv.PIN)
	// sys gives kyso install, Chromium and the hosts it starts system
	// files of the test's own (selfhosted_test.go).
	sys *sysOverlay
	// managed is the id of an extension Chromium installs by itself from
	// the system's files (a managed policy or an external-extension file)
	// instead of the unpacked build; the world waits for it.
	managed string
}

func newWorld(t *testing.T, s setup) *world {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("chromium not installed: %v", err)
	}
	w := &world{t: t, root: testenv.RepoRoot(t), pin: testenv.PIN, sys: s.sys, extensionID: extid.Kyso.Development.ChromiumID}
	if s.managed != "" {
		w.extensionID = s.managed
	}
	kysoJS := kysoJSPath(t, w.root)
	w.display = testenv.Display(t)
	if s.agent || s.native {
		w.kyso = testenv.KysoBinary(t)
	}
	// Short paths: the agent's Unix socket lives under XDG_RUNTIME_DIR.
	dir, err := os.MkdirTemp("", "kyso-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// Cleanups run last-first: this one runs after the browser and the
	// agent (registered later) have stopped, and before the RemoveAll.
	t.Cleanup(func() {
		for _, f := range w.teardown {
			f()
		}
	})
	w.dir = dir
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "home", ".cache", "kyso", "kyso.log"))
			t.Logf("kyso log (agent and host):\n%s", b)
		}
	})
	w.home = filepath.Join(dir, "home")
	cfgHome := filepath.Join(w.home, ".config")
	runtimeDir := filepath.Join(dir, "run")
	for _, d := range []string{cfgHome, filepath.Join(w.home, ".cache"), filepath.Join(w.home, ".local", "share"), runtimeDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	tk := s.tokens
	if tk == nil {
		tk = testenv.Shared(t)
	}
	w.pin = tk.PIN
	conf := demoTokens(t, tk, filepath.Join(dir, "softhsm"))

	// The portal, in-process, on a free loopback port.
	handler := portal.New(portal.Options{KysoJS: kysoJS, Log: zerolog.Nop()})
	var flags []chromedp.ExecAllocatorOption
	if s.public {
		srv := httptest.NewUnstartedServer(handler)
		srv.StartTLS()
		t.Cleanup(srv.Close)
		port := srv.Listener.Addr().(*net.TCPAddr).Port
		w.portal = "https://dichvucong.test:" + strconv.Itoa(port)
		flags = publicFlags(srv, append([]int{port}, s.publicPorts...))
	} else {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: handler}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		w.portal = "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	}

	// Kyso's user config: the portal's origin allowed up front (so no consent
	// dialog), localhost allowed, the SoftHSM module.
	// The agent gets a free port, not the default 28418 that an installed
	// agent (or another test) may hold; the page passes it to kyso.js.
	w.port = freePort(t)
	cfg := map[string]any{
		"allowedOrigins": []string{w.portal},
		"allowLocalhost": true,
		"modules":        []string{testenv.FindSoftHSM()},
		"port":           w.port,
	}
	for k, v := range s.config {
		if more, ok := v.([]string); ok && k == "allowedOrigins" {
			v = append([]string{w.portal}, more...) // the portal stays allowed
		}
		cfg[k] = v
	}
	writeJSON(t, filepath.Join(cfgHome, "kyso", "config.json"), cfg)

	w.env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + w.home,
		"XDG_CONFIG_HOME=" + cfgHome,
		"XDG_CACHE_HOME=" + filepath.Join(w.home, ".cache"),
		"XDG_DATA_HOME=" + filepath.Join(w.home, ".local", "share"),
		"XDG_RUNTIME_DIR=" + runtimeDir,
		"DISPLAY=" + w.display,
		"SOFTHSM2_CONF=" + conf,
		"NO_AT_BRIDGE=1",
		"LANG=C.UTF-8",
	}
	if s.agent {
		w.startAgent()
	}
	udd := filepath.Join(cfgHome, "chromium")
	w.udd = udd
	if s.native {
		w.registerHost(udd)
	}
	w.headed = s.headed
	w.startChromium(udd, s.extension, s.managed != "", append(flags, s.flags...)...)
	return w
}

// kysoJSPath is the built page library (make kyso-js), which the portal
// and the test sites serve as /kyso.js, as a portal would serve the npm
// package's dist/kyso.mjs.
func kysoJSPath(t *testing.T, root string) string {
	t.Helper()
	p := filepath.Join(root, "extension", "kyso-js", "dist", "kyso.mjs")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("the page library is not built (%v): run make kyso-js", err)
	}
	return p
}

// serveKysoJS serves the built page library as /kyso.js on a test site.
func serveKysoJS(t *testing.T, mux *http.ServeMux) {
	t.Helper()
	js, err := os.ReadFile(kysoJSPath(t, testenv.RepoRoot(t)))
	if err != nil {
		t.Fatal(err)
	}
	mux.HandleFunc("GET /kyso.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Write(js)
	})
}

// servePage serves an HTML page at pattern on a test site.
func servePage(mux *http.ServeMux, pattern, html string) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, html)
	})
}

// publicFlags make Chromium reach srv as https://dichvucong.test:PORT with
// its certificate trusted (by its public key: the page is a secure context
// with no warning, as a real portal is) and treat those 127.0.0.1 ports as
// public addresses, so the page reaching the agent on loopback is what
// Local Network Access gates. --test-type hides the bar that warns about
// such flags (it would shift the permission prompt in screenshots).
func publicFlags(srv *httptest.Server, ports []int) []chromedp.ExecAllocatorOption {
	sum := sha256.Sum256(srv.Certificate().RawSubjectPublicKeyInfo)
	var spaces []string
	for _, p := range ports {
		spaces = append(spaces, "127.0.0.1:"+strconv.Itoa(p)+"=public")
	}
	return []chromedp.ExecAllocatorOption{
		chromedp.Flag("host-resolver-rules", "MAP *.test 127.0.0.1"),
		chromedp.Flag("ignore-certificate-errors-spki-list", base64.StdEncoding.EncodeToString(sum[:])),
		chromedp.Flag("ip-address-space-overrides", strings.Join(spaces, ",")),
		chromedp.Flag("test-type", true),
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// demoTokens copies the test tokens tk (testenv.Shared or Provision) into dir and keeps only
// kyso-rsa2048 (CN=NGUYỄN VĂN AN, with the CA certificate), so the
// certificate picker has one row, as on the demo machine. It returns the
// copy's softhsm2.conf.
func demoTokens(t *testing.T, tk *testenv.Tokens, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", filepath.Join(tk.Dir, "tokens"), filepath.Join(dir, "tokens")).CombinedOutput(); err != nil {
		t.Fatalf("copy tokens: %v: %s", err, out)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	body := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", filepath.Join(dir, "tokens"))
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, label := range []string{testenv.LabelEC, testenv.LabelRSA3072, testenv.LabelTwo} {
		cmd := exec.Command("softhsm2-util", "--delete-token", "--token", label)
		cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+conf)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("softhsm2-util --delete-token %s: %v: %s", label, err, out)
		}
	}
	return conf
}

// startAgent runs `kyso serve` as the user would at login, and waits for
// its WebSocket port.
func (w *world) startAgent() {
	t := w.t
	logf, err := os.Create(filepath.Join(w.dir, "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(w.kyso, "serve")
	cmd.Env = w.env
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("kyso serve: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); logf.Close() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("kyso serve log:\n%s", b)
		}
	})
	// Ready when our agent has both its socket (in our XDG_RUNTIME_DIR) and
	// its port: a port alone could be someone else's.
	sock := filepath.Join(w.dir, "run", "kyso", "agent.sock")
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(w.port))
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				c.Close()
				return
			}
		}
		select {
		case err := <-exited:
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("kyso serve exited: %v\n%s", err, b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("kyso serve does not serve %s and %s", addr, sock)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// registerHost registers the native-messaging host with `kyso install`, run
// in the test's HOME and XDG dirs: it writes the Chromium manifest under
// $XDG_CONFIG_HOME/chromium/NativeMessagingHosts, which is where Chromium
// looks when its profile (udd) is $XDG_CONFIG_HOME/chromium. Its systemctl
// calls cannot reach the real user's service manager: the test environment
// has no session bus (XDG_RUNTIME_DIR is the test's own dir).
func (w *world) registerHost(udd string) {
	t := w.t
	cmd := w.sys.command(w.kyso, "install", "--bin", w.kyso)
	cmd.Env = w.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kyso install: %v\n%s", err, out)
	}
	manifest := filepath.Join(udd, "NativeMessagingHosts", extid.Kyso.HostName+".json")
	var m struct {
		Path           string   `json:"path"`
		AllowedOrigins []string `json:"allowed_origins"`
	}
	b, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatalf("kyso install wrote no Chromium manifest (%v):\n%s", err, out)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", manifest, err)
	}
	want := "chrome-extension://" + w.extensionID + "/"
	if m.Path != w.kyso || !slices.Contains(m.AllowedOrigins, want) {
		t.Fatalf("%s: path %q origins %v; want %q and %q", manifest, m.Path, m.AllowedOrigins, w.kyso, want)
	}
}

// extensionDir is the unpacked Chromium build of the extension.
func (w *world) extensionDir() string {
	d := filepath.Join(w.root, "extension", "build", "chromium")
	if _, err := os.Stat(filepath.Join(d, "manifest.json")); err != nil {
		w.t.Fatalf("extension not built (%v): run the extension build (make extension)", err)
	}
	return d
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// page is the URL of a portal page, telling it the agent's port.
func (w *world) page(path string) string {
	return w.portal + path + "?kysoPort=" + strconv.Itoa(w.port)
}

// logWriter collects Chromium's output for the failure report.
type logWriter struct{ w *world }

func (l logWriter) Write(p []byte) (int, error) {
	l.w.logMu.Lock()
	defer l.w.logMu.Unlock()
	return l.w.log.Write(p)
}

// startChromium starts Debian's Chromium with our own flags: chromedp's
// defaults disable extensions, so they are not used. extension loads the
// unpacked build; managed leaves extensions on for one the system installs.
func (w *world) startChromium(udd string, extension, managed bool, more ...chromedp.ExecAllocatorOption) {
	t := w.t
	w.log = new(bytes.Buffer)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(w.sys.chromium(t)),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// Background networking includes the extension updater, which
		// installs a managed (policy or external) extension.
		chromedp.Flag("disable-background-networking", !managed),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.UserDataDir(udd),
		chromedp.NoInheritEnv,
		chromedp.Env(w.env...),
		chromedp.CombinedOutput(logWriter{w}),
	}
	var disable []string // Chromium features turned off
	if w.headed {
		// Xvfb has no window manager: the window stays where it is put.
		opts = append(opts, chromedp.WindowSize(1000, 700), chromedp.Flag("window-position", "0,0"))
		// A Vietnamese reader: no offer to translate covers the pages
		// (this Chromium has only its English UI).
		writeJSON(t, filepath.Join(udd, "Default", "Preferences"), map[string]any{
			"translate": map[string]any{"enabled": false},
			"intl":      map[string]any{"accept_languages": "vi-VN,vi,en-US,en"},
		})
	} else {
		opts = append(opts, chromedp.Flag("headless", "new"))
	}
	if extension {
		ext := w.extensionDir()
		opts = append(opts,
			chromedp.Flag("load-extension", ext),
			chromedp.Flag("disable-extensions-except", ext))
		// Chromium 137+ ignores --load-extension unless this is off.
		disable = append(disable, "DisableLoadExtensionCommandLineSwitch")
	} else if !managed {
		opts = append(opts, chromedp.Flag("disable-extensions", true))
	}
	if len(disable) > 0 {
		opts = append(opts, chromedp.Flag("disable-features", strings.Join(disable, ",")))
	}
	opts = append(opts, more...)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelA()
		if t.Failed() {
			w.logMu.Lock()
			t.Logf("chromium output:\n%s", w.log.String())
			w.logMu.Unlock()
		}
	})
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v\n%s", err, w.log.String())
	}
	w.ctx = ctx
	// The page's console goes to the failure report too.
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			fmt.Fprintf(logWriter{w}, "console: %s\n", m)
		}
	}()
	if extension || managed {
		w.waitExtension()
	}
}

// waitExtension waits for the Kyso extension's service worker, so a test
// fails with a clear message when Chromium did not load (or install) it.
func (w *world) waitExtension() {
	t := w.t
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := chromedp.CallBrowser(w.ctx, target.GetTargets, target.GetTargetsParams{})
		if err != nil {
			t.Fatalf("Target.getTargets: %v", err)
		}
		var seen []string
		for _, ti := range res.TargetInfos {
			if strings.HasPrefix(ti.URL, "chrome-extension://"+w.extensionID+"/") {
				return
			}
			seen = append(seen, string(ti.Type)+" "+ti.URL)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Kyso extension did not load; targets: %v", seen)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// run runs page actions with a bound.
func (w *world) run(steps ...chromedp.Action[chromedp.Void]) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		w.t.Fatalf("page: %v", err)
	}
}

func (w *world) eval(expr string) string {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		w.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// outcome is what the page's result box says.
type outcome struct {
	State, Code, Text string
}

// awaitResult answers Kyso's dialogs like a person (the certificate picker:
// first row; the PIN dialog: the token's PIN) until the page's result box
// holds a final state. It fails on any other Kyso dialog (the origin is
// pre-allowed, so no consent dialog may appear).
func (w *world) awaitResult(wantPIN bool) outcome {
	t := w.t
	t.Helper()
	handled := map[string]bool{}
	pinAsked := false
	pins := 0
	deadline := time.Now().Add(120 * time.Second)
	for {
		st := w.eval(`document.getElementById('ket-qua').dataset.state || ''`)
		if st == "valid" || st == "invalid" || st == "error" || st == "form" {
			if wantPIN && !pinAsked && st != "error" {
				t.Errorf("the page finished (%s) without a PIN dialog", st)
			}
			return outcome{
				State: st,
				Code:  w.eval(`document.getElementById('ket-qua').dataset.code || ''`),
				Text:  w.eval(`document.getElementById('ket-qua').innerText`),
			}
		}
		for _, id := range windows(w.display, kysoTitle) {
			if handled[id] {
				continue
			}
			name, err := xdo(w.display, "getwindowname", id)
			if err != nil {
				continue // closed meanwhile
			}
			handled[id] = true
			switch {
			case regexp.MustCompile(pinTitle).MatchString(name):
				pins++
				t.Logf("PIN dialog %q", name)
				if pins > 3 {
					t.Fatalf("the PIN dialog opened %d times", pins)
				}
				pinAsked = true
				w.answer(id, "type:"+w.pin, "Return")
			case isPicker(name):
				t.Logf("certificate picker %q", name)
				w.answer(id, pickerKeys...)
			default:
				t.Fatalf("unexpected Kyso dialog %q", name)
			}
			// X reuses a closed client's ids: the next dialog often gets
			// the same window id, so forget this one once it is gone.
			w.waitGone(id)
			delete(handled, id)
		}
		if time.Now().After(deadline) {
			shot := filepath.Join(os.TempDir(), "kyso-e2e-"+strings.ReplaceAll(t.Name(), "/", "_")+".png")
			testenv.Screenshot(t, w.display, shot)
			t.Logf("screen: %s", shot)
			t.Fatalf("no result on the page; status: %s", w.eval(`document.getElementById('trang-thai').innerText`))
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// answer focuses dialog window id and sends it keys (xdotool key names) or
// text ("type:…"), as a person would. Xvfb has no window manager, so the
// window is focused with windowfocus, retried until X reports it focused
// (a GTK window may be mapped before it takes the focus). The keys go
// through XTEST to the focused window, like a keyboard's: GTK routes them
// to the dialog's focused widget (the PIN entry, the list).
func (w *world) answer(id string, keys ...string) {
	t := w.t
	t.Helper()
	focused := false
	for range 20 {
		if _, err := xdo(w.display, "windowfocus", "--sync", id); err == nil {
			if f, err := xdo(w.display, "getwindowfocus"); err == nil && f == id {
				focused = true
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !focused {
		if !slices.Contains(windows(w.display, kysoTitle), id) {
			return // closed meanwhile (cancelled by the other side)
		}
		t.Fatalf("cannot focus dialog %s", id)
	}
	// GTK gives the dialog's entry or list the focus once the window has
	// it; a short pause, like the moment a person takes to read the dialog,
	// keeps the first keys from arriving before that.
	time.Sleep(300 * time.Millisecond)
	for _, k := range keys {
		args := []string{"key", "--delay", "50", k}
		if text, ok := strings.CutPrefix(k, "type:"); ok {
			args = []string{"type", "--delay", "30", text}
		}
		if _, err := xdo(w.display, args...); err != nil {
			t.Fatalf("answer dialog %s: %v", id, err)
		}
	}
}

// waitGone waits a while for window id to close. X reuses a closed
// client's ids, so a dialog that reopens (a wrong PIN, when a keystroke was
// lost) may carry the same id: after the wait the id counts as new again.
func (w *world) waitGone(id string) {
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if !slices.Contains(windows(w.display, kysoTitle), id) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The certificate picker is the zenity list; its title names certificates.
var pickerRE = regexp.MustCompile(`(?i)chứng thư|certificate|chọn|choose`)

func isPicker(title string) bool { return pickerRE.MatchString(title) }

// pickerKeys choose the first row of the zenity list and confirm: Home puts
// the cursor (and the selection) on row one, Return activates it.
var pickerKeys = []string{"Home", "Return"}

// windows lists the visible windows whose title matches pattern.
func windows(display, pattern string) []string {
	out, err := xdo(display, "search", "--onlyvisible", "--name", pattern)
	if err != nil || out == "" {
		return nil
	}
	return strings.Fields(out)
}

func xdo(display string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "xdotool", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return strings.TrimSpace(string(out)), fmt.Errorf("xdotool %v: %w: %s", args, err, ee.Stderr)
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}
