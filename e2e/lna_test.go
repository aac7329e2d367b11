package e2e_test

// Local Network Access (issue 17) in real Chromium: the demo portal served
// over https from an address Chromium treats as public
// (--ip-address-space-overrides), so its WebSocket to the agent on
// loopback is what Chromium gates. Headless Chromium answers no prompt, so
// the permission is set through CDP (Browser.setPermission with
// "loopback-network") in the headless tests; the headed tests (a visible
// window on the test's Xvfb display) show Chromium's real prompt and answer
// it from the keyboard as a person would (Alt+Shift+A moves the focus into
// the prompt: Block first, then Allow).
//
// Measured here with Chromium 156, and relied on below: a denied page's
// socket and a socket to a port nothing listens on both close with 1006
// within milliseconds (only the permission state tells them apart); with the
// prompt open the socket neither opens nor fails until the person answers;
// Allow opens it, Block fails it (state "denied"), closing the prompt fails
// it with the state left at "prompt"; a port nothing listens on fails at
// once without a prompt; a cross-origin iframe without
// allow="loopback-network" fails at once; a CDP override applies to every
// frame, policy or not, so the iframe cases run headed.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"kyso.vn/kyso/internal/testenv"
)

// setLoopback sets the portal's "loopback-network" permission, as a person
// would in the site settings.
func (w *world) setLoopback(setting browser.PermissionSetting) {
	w.t.Helper()
	_, err := chromedp.CallBrowser(w.ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "loopback-network"}, Setting: setting, Origin: w.portal})
	if err != nil {
		w.t.Fatalf("Browser.setPermission loopback-network %s: %v", setting, err)
	}
}

// submitForm fills the demo form and presses the sign button.
func (w *world) submitForm() {
	w.run(chromedp.Navigate(w.page("/")), chromedp.WaitVisible(chromedp.ID("ky-nop")))
	w.eval(`document.getElementById('dien-mau').click(), ''`)
	w.eval(`document.getElementById('ky-nop').click(), ''`)
}

// evalAwait evaluates expr and waits for the promise it returns.
func (w *world) evalAwait(expr string) string {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		w.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// states is what kyso.js told the demo page (onStateChange), in order.
func (w *world) states() []string {
	var s []string
	if err := json.Unmarshal([]byte(w.eval(`JSON.stringify(window.kysoStates || [])`)), &s); err != nil {
		w.t.Fatal(err)
	}
	return s
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// requests counts the operations op the agent (or the host) logged.
func (w *world) requests(op string) int {
	return countLines(w.logLines(), map[string]string{"op": op})
}

func wantCode(t *testing.T, got outcome, code string) {
	t.Helper()
	if got.State != "error" || got.Code != code {
		t.Fatalf("state %q code %q, want error %s:\n%s", got.State, got.Code, code, got.Text)
	}
}

// Denied: the page is told the browser blocked it, at once, not that Kyso
// is missing (the agent runs), and nothing reached the agent.
func TestLNADenied(t *testing.T) {
	w := newWorld(t, setup{agent: true, public: true})
	w.setLoopback(browser.PermissionSettingDenied)
	w.submitForm()
	got := w.awaitResult(false)
	wantCode(t, got, "LOCAL_NETWORK_BLOCKED")
	if !strings.Contains(got.Text, "Trình duyệt đã chặn") {
		t.Errorf("the page does not say the browser blocked it:\n%s", got.Text)
	}
	if s := w.states(); has(s, "waiting-for-browser-permission") {
		t.Errorf("kyso.js waited for a prompt that was never shown: %v", s)
	}
	if n := w.requests("getCertificate"); n != 0 {
		t.Errorf("the agent got %d getCertificate requests through a blocked socket", n)
	}
}

// Granted: the whole sign works over the WebSocket from a public page
// (dialogs answered, signature verified by the portal and openssl).
func TestLNAGranted(t *testing.T) {
	w := newWorld(t, setup{agent: true, public: true})
	w.setLoopback(browser.PermissionSettingGranted)
	w.signForm()
	if s := w.states(); !has(s, "connected") || has(s, "waiting-for-browser-permission") {
		t.Errorf("states %v", s)
	}
}

// Granted, agent not running: NOT_INSTALLED (the permission was not the
// reason).
func TestLNAGrantedNoAgent(t *testing.T) {
	w := newWorld(t, setup{public: true})
	w.setLoopback(browser.PermissionSettingGranted)
	w.submitForm()
	wantCode(t, w.awaitResult(false), "NOT_INSTALLED")
}

// countConns listens on 127.0.0.1:port in the agent's place and counts
// the connections that reach it (each is closed at once).
func countConns(t *testing.T, port int) *atomic.Int32 {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	n := new(atomic.Int32)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	return n
}

// Loading a page that uses kyso.js (and asks detect()) opens no
// connection: the browser's prompt may only appear once the person asked
// to sign. A listener stands in the agent's port and counts.
func TestLNANoConnectionOnLoad(t *testing.T) {
	w := newWorld(t, setup{public: true})
	conns := countConns(t, w.port)
	w.setLoopback(browser.PermissionSettingGranted)
	w.run(chromedp.Navigate(w.page("/")), chromedp.WaitVisible(chromedp.ID("ky-nop")))
	det := w.evalAwait(fmt.Sprintf(`import('/kyso.js').then((k) => (window.K = k.createClient({ port: %d })).detect()).then(JSON.stringify)`, w.port))
	var d struct {
		Extension          any    `json:"extension"`
		LocalNetworkAccess string `json:"localNetworkAccess"`
		Permission         string `json:"permission"`
		FrameAllowed       bool   `json:"frameAllowed"`
	}
	if err := json.Unmarshal([]byte(det), &d); err != nil {
		t.Fatalf("detect: %v: %s", err, det)
	}
	if d.Extension != nil || d.LocalNetworkAccess != "granted" || d.Permission != "loopback-network" || !d.FrameAllowed {
		t.Errorf("detect() = %s", det)
	}
	time.Sleep(2 * time.Second)
	if n := conns.Load(); n != 0 {
		t.Fatalf("%d connections reached the agent's port on page load", n)
	}
	// The listener does see one once an operation is asked for.
	code := w.evalAwait(`window.K.version().then(() => 'OK', (e) => e.code)`)
	if n := conns.Load(); n < 1 || code != "NOT_INSTALLED" {
		t.Fatalf("after version(): %d connections, %s", n, code)
	}
}

// With the extension, the page's WebSocket permission does not matter:
// the content script and the background are not gated, and native
// messaging is not a network request.
func TestLNAExtensionNotGated(t *testing.T) {
	w := newWorld(t, setup{extension: true, native: true, agent: true, public: true})
	w.setLoopback(browser.PermissionSettingDenied)
	w.signForm()
}

// An installed extension is the only path (issue 16 finding 6): when its
// host is missing, the page gets NOT_INSTALLED and the running agent's
// WebSocket is not tried (another program may hold that port).
func TestExtensionNeverFallsBack(t *testing.T) {
	w := newWorld(t, setup{extension: true, agent: true})
	w.submitForm()
	wantCode(t, w.awaitResult(false), "NOT_INSTALLED")
	if n := w.requests("getCertificate"); n != 0 {
		t.Errorf("kyso.js went to the agent's WebSocket (%d requests)", n)
	}
}

// answerPrompt answers Chromium's permission prompt from the keyboard:
// Alt+Shift+A focuses the prompt (its Block button), then keys.
func (w *world) answerPrompt(keys ...string) {
	w.t.Helper()
	if ids := windows(w.display, "Chromium"); len(ids) > 0 {
		xdo(w.display, "windowfocus", "--sync", ids[0])
	}
	args := append([]string{"key", "--delay", "250", "alt+shift+a"}, keys...)
	if _, err := xdo(w.display, args...); err != nil {
		w.t.Fatalf("answer the prompt: %v", err)
	}
}

// waitState waits until kyso.js has told the page state n times.
func (w *world) waitState(state string, n int) {
	w.t.Helper()
	waitFor(w.t, fmt.Sprintf("state %s ×%d", state, n), 30*time.Second, func() bool {
		c := 0
		for _, s := range w.states() {
			if s == state {
				c++
			}
		}
		return c >= n
	})
}

// shot keeps a screenshot in the test's log dir, and in
// $KYSO_DOCS_SCREENSHOTS when set (how docs/ gets its pictures).
func (w *world) shot(name string) {
	p := filepath.Join(w.t.TempDir(), name)
	if d := os.Getenv("KYSO_DOCS_SCREENSHOTS"); d != "" {
		p = filepath.Join(d, name)
	}
	xdo(w.display, "mousemove", "1020", "760") // the pointer out of the picture
	time.Sleep(700 * time.Millisecond)         // the prompt's opening animation
	testenv.Screenshot(w.t, w.display, p)
	w.t.Logf("screenshot: %s", p)
}

// frameSite serves, on one port, a parent page (https://cha.test:PORT/parent)
// and a cross-origin frame (https://khung.test:PORT/frame) that loads
// kyso.js, asks version() and posts what it got to its parent. (The demo
// portal's Content-Security-Policy does not allow frames.)
func frameSite(t *testing.T) int {
	t.Helper()
	mux := http.NewServeMux()
	serveKysoJS(t, mux)
	servePage(mux, "GET /parent", `<!doctype html><meta charset="utf-8"><title>cổng</title><p>cổng</p>
<script type="module">
import * as K from "/kyso.js";
window.kysoStates = [];
window.kysoFrames = [];
addEventListener("message", (e) => e.data && e.data.kysoFrame && window.kysoFrames.push(e.data.kysoFrame));
window.C = K.createClient({ port: Number(new URLSearchParams(location.search).get("port")), onStateChange: (s) => window.kysoStates.push(s) });
window.ready = true;
</script>`)
	servePage(mux, "GET /frame", `<!doctype html><meta charset="utf-8"><title>khung</title><p>khung ký</p>
<script type="module">
import * as K from "/kyso.js";
const q = new URLSearchParams(location.search);
const c = K.createClient({ port: Number(q.get("port")) });
const r = { name: q.get("name") };
try { r.code = "OK"; r.version = (await c.version()).version; } catch (e) { r.code = e.code; r.detail = e.detail || ""; }
r.frameAllowed = (await c.detect()).frameAllowed;
parent.postMessage({ kysoFrame: r }, "*");
</script>`)
	srv := httptest.NewUnstartedServer(mux)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().(*net.TCPAddr).Port
}

type frameResult struct {
	Name, Code, Detail, Version string
	FrameAllowed                bool
}

// frames puts one iframe per allow value (name → allow attribute, "" for
// none) into the portal page and returns what each got.
func (w *world) frames(site int, allow map[string]string) map[string]frameResult {
	w.t.Helper()
	for name, a := range allow {
		src := fmt.Sprintf("https://khung.test:%d/frame?port=%d&name=%s", site, w.port, name)
		w.eval(fmt.Sprintf(`(() => { const f = document.createElement('iframe'); f.src = %q; if (%q) f.allow = %q; document.body.append(f); return ''; })()`, src, a, a))
	}
	got := map[string]frameResult{}
	waitFor(w.t, "the frames' results", 30*time.Second, func() bool {
		var rs []frameResult
		json.Unmarshal([]byte(w.eval(`JSON.stringify(window.kysoFrames)`)), &rs)
		for _, r := range rs {
			got[r.Name] = r
		}
		return len(got) == len(allow)
	})
	return got
}

// The real prompt: kyso.js tells the page it waits for the browser (the
// demo shows it), waits past every time limit of its own, and the sign
// goes on when the person presses Allow.
func TestLNAPromptAllow(t *testing.T) {
	w := newWorld(t, setup{agent: true, public: true, headed: true})
	w.submitForm()
	w.waitState("waiting-for-browser-permission", 1)
	if st := w.eval(`document.getElementById('trang-thai').innerText`); !strings.Contains(st, "Cho phép") {
		t.Errorf("the page does not tell the person to answer the browser: %q", st)
	}
	w.shot("lna-prompt.png")
	// Longer than kyso.js's connectTimeout (3 s): still waiting, no error.
	time.Sleep(4 * time.Second)
	if st := w.eval(`document.getElementById('ket-qua').dataset.state || ''`); st != "busy" {
		t.Fatalf("the page stopped waiting for the prompt: %q", st)
	}
	w.answerPrompt("Tab", "Return") // Allow
	got := w.awaitResult(true)
	if got.State != "valid" {
		t.Fatalf("after Allow: state %q code %q\n%s", got.State, got.Code, got.Text)
	}
	w.opensslVerify()
}

// A cross-origin iframe reaches Kyso only with allow="loopback-network"
// (its page allowed through Chromium's prompt); without it kyso.js says
// what the frame lacks.
func TestLNAIframe(t *testing.T) {
	site := frameSite(t)
	w := newWorld(t, setup{agent: true, public: true, headed: true, publicPorts: []int{site}})
	w.run(chromedp.Navigate(fmt.Sprintf("https://cha.test:%d/parent?port=%d", site, w.port)))
	waitFor(t, "the parent page", 20*time.Second, func() bool { return w.eval(`String(!!window.ready)`) == "true" })
	w.eval(`window.C.version().then(() => { window.v = 'OK'; }, (e) => { window.v = e.code; }), ''`)
	w.waitState("waiting-for-browser-permission", 1)
	w.answerPrompt("Tab", "Return") // Allow
	waitFor(t, "version() after Allow", 20*time.Second, func() bool { return w.eval(`String(window.v || '')`) != "" })
	if v := w.eval(`window.v`); v != "OK" {
		t.Fatalf("the parent page after Allow: %s", v)
	}
	r := w.frames(site, map[string]string{"allowed": "loopback-network", "plain": ""})
	if a := r["allowed"]; a.Code != "OK" || !a.FrameAllowed {
		t.Errorf(`iframe with allow="loopback-network": %+v`, a)
	}
	if p := r["plain"]; p.Code != "LOCAL_NETWORK_BLOCKED" || !strings.Contains(p.Detail, `allow="loopback-network"`) || p.FrameAllowed {
		t.Errorf("iframe without allow: %+v", p)
	}
}

// The prompt closed without an answer, then Block: both are
// LOCAL_NETWORK_BLOCKED (the state stays "prompt" after the first, so only
// having waited tells it from a missing agent), and a new attempt after
// the closed prompt asks again.
func TestLNAPromptBlock(t *testing.T) {
	w := newWorld(t, setup{agent: true, public: true, headed: true})
	w.submitForm()
	w.waitState("waiting-for-browser-permission", 1)
	w.answerPrompt("Escape")
	got := w.awaitResult(false)
	wantCode(t, got, "LOCAL_NETWORK_BLOCKED")
	if p := w.evalAwait(`navigator.permissions.query({name: 'loopback-network'}).then((s) => s.state)`); p != "prompt" {
		t.Errorf("after closing the prompt the permission is %q", p)
	}

	w.eval(`document.getElementById('ky-nop').click(), ''`)
	w.waitState("waiting-for-browser-permission", 2)
	w.answerPrompt("Return") // Block
	got = w.awaitResult(false)
	wantCode(t, got, "LOCAL_NETWORK_BLOCKED")
	if p := w.evalAwait(`navigator.permissions.query({name: 'loopback-network'}).then((s) => s.state)`); p != "denied" {
		t.Errorf("after Block the permission is %q", p)
	}
	if n := w.requests("getCertificate"); n != 0 {
		t.Errorf("the agent got %d requests", n)
	}
}
