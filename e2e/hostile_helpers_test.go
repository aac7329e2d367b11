package e2e_test

// Helpers of hostile_test.go: a TLS server that plays the hostile sites
// (https://<name>.test:PORT, which Chromium resolves to 127.0.0.1), the
// page-side attack script, a watcher of Kyso's dialogs, and the PIN audit.

import (
	"bufio"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kyso.vn/kyso/internal/testenv"
)

// hostilePIN is the PIN of the hostile suite's private tokens: one that no
// log line, profile file or page could hold by chance (123456 could).
const hostilePIN = "Kyso-E2E-8vRqJ"

// hostileTokens provisions the suite's tokens once per test process.
var hostileTokens = testenv.SuiteTokens(hostilePIN)

// site serves the hostile pages over TLS on 127.0.0.1 for any host name;
// Chromium maps every *.test name to 127.0.0.1 and ignores the certificate,
// so https://evil.test:PORT is a real https origin of its own in the
// browser, as a hostile site on the internet would be.
type site struct {
	port int
}

func newSite(t *testing.T, root string) *site {
	t.Helper()
	mux := http.NewServeMux()
	serveKysoJS(t, mux)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><meta charset="utf-8"><title>hostile</title><body><p>hostile page</p>
<script src="/hostile.js"></script>
<script type="module">import * as K from "/kyso.js"; window.K = K; window.ready = true;</script>`)
	})
	// The iframe attacks on its own as soon as it loads and tells its
	// parent what it got (the test cannot evaluate in a cross-origin frame).
	mux.HandleFunc("GET /frame", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><meta charset="utf-8"><title>frame</title><body><p>hostile frame</p>
<script src="/hostile.js"></script>
<script type="module">
import * as K from "/kyso.js";
window.K = K;
const q = new URLSearchParams(location.search);
const r = await H.attack(Number(q.get("port")), q.get("cert"), q.get("hash"), q.get("claim"));
parent.postMessage({ hostileFrame: r }, "*");
</script>`)
	})
	mux.HandleFunc("GET /hostile.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		fmt.Fprint(w, hostileJS)
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return &site{port: srv.Listener.Addr().(*net.TCPAddr).Port}
}

// origin is the origin of host name.test on the site.
func (s *site) origin(name string) string {
	return "https://" + name + ".test:" + strconv.Itoa(s.port)
}

// chromiumFlags make Chromium resolve *.test to the site and accept its
// self-signed certificate.
func siteFlags() []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.Flag("host-resolver-rules", "MAP *.test 127.0.0.1"),
		chromedp.Flag("ignore-certificate-errors", true),
	}
}

// hostileJS is loaded into every page the tests drive (served as
// /hostile.js by the site, evaluated in the portal's pages). It defines
// window.H; window.K is kyso.js, loaded beside it. Every helper settles
// into plain data: an error code, never an exception.
const hostileJS = `
window.H = (() => {
  const wait = (ms) => new Promise((r) => setTimeout(r, ms));
  // The error code a kyso.js promise settled with ("OK" when it resolved).
  async function code(p) {
    try { await p; return "OK"; } catch (e) { return (e && e.code) || ("THROW " + e); }
  }
  // Is the Kyso extension's content script in this frame?
  function hello(ms) {
    return new Promise((resolve) => {
      const on = (e) => {
        if (e.source === window && e.data && e.data.kyso === "hello-ack") { removeEventListener("message", on); resolve(true); }
      };
      addEventListener("message", on);
      postMessage({ kyso: "hello" }, "*");
      setTimeout(() => { removeEventListener("message", on); resolve(false); }, ms);
    });
  }
  // A WebSocket to the agent, opened by hand: what the page saw of it. If
  // it ever opened, it asks for a certificate, so a broken check would
  // show a dialog (which the test watches for). host is the name in the
  // URL (and so in the Host header): 127.0.0.1 unless given.
  function rawWS(port, host) {
    return new Promise((resolve) => {
      const r = { opened: false, events: [] };
      let ws;
      const done = () => resolve(r);
      try { ws = new WebSocket("ws://" + (host || "127.0.0.1") + ":" + port + "/v1"); } catch (e) { r.events.push("throw " + e.message); done(); return; }
      const timer = setTimeout(() => { r.events.push("timeout"); try { ws.close(); } catch {} done(); }, 10000);
      ws.onopen = () => { r.opened = true; r.events.push("open"); ws.send(JSON.stringify({ id: "hijack", op: "getCertificate", params: {} })); };
      ws.onmessage = (e) => { r.events.push("message " + e.data); ws.close(); };
      ws.onerror = () => r.events.push("error");
      ws.onclose = (e) => { r.events.push("close " + e.code); clearTimeout(timer); done(); };
    });
  }
  let job = null; // {certificateId, hash, hashFunction}
  function setJob(cert, hash) { job = { certificateId: cert, hash: hash, hashFunction: "SHA-256" }; }
  // kyso.js clients: "ext" tries the extension first (as kyso.js does by
  // default); "ws" has no window to post to, so it goes to the WebSocket.
  const clients = {};
  function client(port, via) {
    const key = via + port;
    if (!clients[key]) {
      clients[key] = via === "ws"
        ? K.createClient({ port: port, window: {} })
        : K.createClient({ port: port, helloTimeout: 3000 });
    }
    return clients[key];
  }
  // A message posted to the content script with every origin-looking field
  // a page could forge set to claim.
  function forged(claim) {
    return new Promise((resolve) => {
      const id = "forged-" + Math.random().toString(36).slice(2);
      const on = (e) => {
        if (e.source !== window || !e.data || e.data.kyso !== "response" || e.data.id !== id) return;
        removeEventListener("message", on);
        resolve(e.data.ok ? "OK" : e.data.error.code);
      };
      addEventListener("message", on);
      postMessage({ kyso: "request", id: id, op: "sign", origin: claim, frameOrigin: claim,
        sender: { origin: claim, url: claim + "/", tab: { id: 1 } }, url: claim + "/",
        params: Object.assign({}, job, { origin: claim }) }, "*");
      setTimeout(() => { removeEventListener("message", on); resolve("NO ANSWER"); }, 15000);
    });
  }
  // Everything a hostile frame tries.
  async function attack(port, cert, hash, claim) {
    setJob(cert, hash);
    const r = { origin: self.origin, hello: await hello(3000), ws: await rawWS(port) };
    const k = client(port, "ext");
    r.version = await code(k.version());
    r.getCertificate = await code(k.getCertificate());
    r.sign = await code(k.sign(job));
    r.forged = await forged(claim);
    return r;
  }
  // Flood: n sign requests at once, their codes collected under key.
  const waves = {};
  function wave(key, n, port, via) {
    const c = client(port, via);
    const st = (waves[key] = []);
    for (let i = 0; i < n; i++) code(c.sign(job)).then((x) => st.push(x));
    return "started";
  }
  function codes(key) { return JSON.stringify(waves[key] || []); }
  // n requests one after another.
  async function seq(n, port, via) {
    const c = client(port, via), out = [];
    for (let i = 0; i < n; i++) out.push(await code(c.sign(job)));
    return out;
  }
  // One signature kept whole, for the test to verify.
  const results = {};
  function start(key, port, via) {
    results[key] = null;
    client(port, via).sign(job).then(
      (r) => { results[key] = { code: "OK", signature: r.signature }; },
      (e) => { results[key] = { code: (e && e.code) || String(e) }; });
    return "started";
  }
  function result(key) { return JSON.stringify(results[key]); }
  // Everything the page could have seen: posted messages and keystrokes.
  const snooped = [];
  function snoop() {
    addEventListener("message", (e) => { try { snooped.push(JSON.stringify(e.data)); } catch {} }, true);
    for (const ev of ["keydown", "keypress", "keyup", "input", "paste", "beforeinput"]) {
      addEventListener(ev, (e) => snooped.push(ev + " " + (e.key || e.data || "")), true);
    }
  }
  return { wait, code, hello, rawWS, setJob, client, forged, attack, wave, codes, seq, start, result, snoop, snooped };
})();
"ok";
`

// designCodes are protocol v1's error codes plus kyso.js's NOT_INSTALLED.
var designCodes = map[string]bool{
	"BAD_REQUEST": true, "UNKNOWN_OP": true, "ORIGIN_DENIED": true, "USER_CANCELLED": true,
	"TIMEOUT": true, "BUSY": true, "RATE_LIMITED": true, "NO_TOKEN": true, "NO_CERTIFICATE": true,
	"CERTIFICATE_NOT_FOUND": true, "UNSUPPORTED_ALGORITHM": true, "PIN_LOCKED": true,
	"TOKEN_REMOVED": true, "TOKEN_ERROR": true, "INTERNAL": true, "NOT_INSTALLED": true,
}

// newHostileWorld is a world for the hostile suite: the extension with its
// native host, the agent, the suite's own tokens, the hostile site, and
// the PIN audit at teardown. config adds to Kyso's user config.
func newHostileWorld(t *testing.T, config func(s *site) map[string]any) (*world, *site) {
	t.Helper()
	s := newSite(t, testenv.RepoRoot(t))
	var cfg map[string]any
	if config != nil {
		cfg = config(s)
	}
	w := newWorld(t, setup{extension: true, native: true, agent: true,
		config: cfg, flags: siteFlags(), tokens: hostileTokens(t)})
	w.auditPIN()
	return w, s
}

// auditPIN checks, once the browser and the agent have stopped, that the
// PIN appears nowhere they wrote: the agent's output (serve.log), the
// hosts' and Chromium's output and the pages' console (w.log), the home
// (Kyso's config, cache and data dirs, the Chromium profile) and the
// runtime dir (the agent's socket dir).
func (w *world) auditPIN() {
	w.teardown = append(w.teardown, func() {
		serve, _ := os.ReadFile(filepath.Join(w.dir, "serve.log"))
		w.logMu.Lock()
		out := string(serve) + w.log.String()
		w.logMu.Unlock()
		if _, err := os.Stat(filepath.Join(w.udd, "Default")); err != nil {
			w.t.Errorf("no Chromium profile under %s to look through: %v", w.udd, err)
		}
		if err := testenv.NoSecret(w.pin, out, w.home, filepath.Join(w.dir, "run")); err != nil {
			w.t.Error(err)
		} else {
			w.t.Logf("PIN audit: not in the outputs (%d bytes) nor under %s and %s", len(out), w.home, filepath.Join(w.dir, "run"))
		}
	})
}

// tab is a browser tab.
type tab struct {
	w    *world
	ctx  context.Context
	name string
}

// mainTab is the world's first tab.
func (w *world) mainTab() *tab { return &tab{w: w, ctx: w.ctx, name: "main"} }

// newTab opens another tab; its console goes to the world's log too.
func (w *world) newTab(name string) *tab {
	w.t.Helper()
	ctx, cancel := chromedp.NewContext(w.ctx)
	w.t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		w.t.Fatalf("new tab: %v", err)
	}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			fmt.Fprintf(logWriter{w}, "console (%s): %s\n", name, m)
		}
	}()
	return &tab{w: w, ctx: ctx, name: name}
}

// eval evaluates expr in the tab, awaiting a promise, and returns its
// string result.
func (tb *tab) eval(expr string) string {
	tb.w.t.Helper()
	v, err := tb.evalErr(expr)
	if err != nil {
		tb.w.t.Fatalf("%s tab: evaluate %.80s: %v", tb.name, expr, err)
	}
	return v
}

// evalErr is eval for other goroutines than the test's: it fails nothing.
func (tb *tab) evalErr(expr string) (string, error) {
	ctx, cancel := context.WithTimeout(tb.ctx, 90*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
}

// evalJSON evaluates expr (a JSON string, or a promise of one) into out.
func (tb *tab) evalJSON(expr string, out any) {
	tb.w.t.Helper()
	s := tb.eval(expr)
	if err := json.Unmarshal([]byte(s), out); err != nil {
		tb.w.t.Fatalf("%s tab: %.80s gave %q: %v", tb.name, expr, s, err)
	}
}

// open navigates the tab to url and loads kyso.js (window.K) and the
// attack script (window.H) into it: the site's pages load both themselves,
// the portal's pages get them evaluated.
func (tb *tab) open(url string) {
	tb.w.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		tb.w.t.Fatalf("%s tab: navigate %s: %v", tb.name, url, err)
	}
	tb.eval(`(async () => {
  while (document.readyState !== "complete") await new Promise((r) => setTimeout(r, 50));
  if (!window.K) window.K = await import("/kyso.js");
  return "ok";
})()`)
	if tb.eval(`String(!!window.H)`) != "true" {
		tb.eval(hostileJS)
	}
}

// setJob gives the tab's attack script a certificate id and a hash to sign.
func (tb *tab) setJob(certID, hash string) {
	tb.eval(fmt.Sprintf(`H.setJob(%q, %q), "ok"`, certID, hash))
}

// watchDialogs records the Kyso windows that show until End.
func (w *world) watchDialogs() *testenv.WindowWatch {
	return testenv.WatchWindows(w.display, kysoTitle)
}

// assertNoDialog fails the test when any Kyso window shows during quiet:
// the time a dialog would take to open if the agent had accepted.
func (w *world) assertNoDialogFor(d *testenv.WindowWatch, quiet time.Duration) {
	w.t.Helper()
	time.Sleep(quiet)
	if most, titles := d.End(); most > 0 || len(titles) > 0 {
		w.t.Errorf("a Kyso dialog appeared: %v", titles)
	}
}

// cancelDialog presses Escape in the PIN dialog (testenv.Cancel) and waits
// for it to close, pressing again if GTK lost the key (it may arrive before
// the dialog took the focus). A second Escape cannot close another
// dialog: none opens until the test starts the next requests.
func (w *world) cancelDialog() {
	w.t.Helper()
	for try := 0; ; try++ {
		testenv.Cancel(w.t, w.display, pinTitle)
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) && testenv.HasWindow(w.t, w.display, kysoTitle) {
			time.Sleep(100 * time.Millisecond)
		}
		if !testenv.HasWindow(w.t, w.display, kysoTitle) {
			return
		}
		if try == 2 {
			w.t.Fatalf("the PIN dialog does not close on Escape")
		}
	}
}

// answerPIN types the PIN into the open PIN dialog, as awaitResult does.
func (w *world) answerPIN() {
	w.t.Helper()
	id := testenv.WaitWindow(w.t, w.display, pinTitle)
	w.answer(id, "type:"+w.pin, "Return")
}

// logLines are the JSON lines of kyso.log (the agent's and the hosts').
func (w *world) logLines() []map[string]any {
	w.t.Helper()
	f, err := os.Open(filepath.Join(w.home, ".cache", "kyso", "kyso.log"))
	if err != nil {
		w.t.Fatalf("kyso.log: %v", err)
	}
	defer f.Close()
	var lines []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			lines = append(lines, m)
		}
	}
	return lines
}

// count returns how many log lines have every key=value of want.
func countLines(lines []map[string]any, want map[string]string) int {
	n := 0
next:
	for _, l := range lines {
		for k, v := range want {
			if s, _ := l[k].(string); s != v {
				continue next
			}
		}
		n++
	}
	return n
}

// signJob is the suite's RSA certificate and a fresh hash to sign.
type signJob struct {
	certDER []byte
	certID  string // hex SHA-256 of the DER (DESIGN: certificateId)
	hash    []byte
}

func newSignJob(t *testing.T) signJob {
	t.Helper()
	der, err := os.ReadFile(filepath.Join(hostileTokens(t).Dir, testenv.CertRSA+".der"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	h := make([]byte, 32)
	rand.Read(h)
	return signJob{certDER: der, certID: hex.EncodeToString(sum[:]), hash: h}
}

func (j signJob) hashB64() string { return base64.StdEncoding.EncodeToString(j.hash) }

// verify checks sig (base64) over the job's hash against the certificate,
// with Go's crypto and with openssl.
func (j signJob) verify(t *testing.T, sigB64 string) {
	t.Helper()
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil || len(sig) == 0 {
		t.Fatalf("signature not base64: %q", sigB64)
	}
	cert, err := x509.ParseCertificate(j.certDER)
	if err != nil {
		t.Fatal(err)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		t.Fatalf("certificate key is %T, not RSA", cert.PublicKey)
	}
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, j.hash, sig); err != nil {
		t.Fatalf("Go crypto does not verify the signature: %v", err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	certf, dig, sigf := write("cert.der", j.certDER), write("hash.bin", j.hash), write("sig.bin", sig)
	pubPEM, err := exec.Command("openssl", "x509", "-inform", "DER", "-in", certf, "-pubkey", "-noout").Output()
	if err != nil {
		t.Fatalf("openssl x509: %v", err)
	}
	out, err := exec.Command("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", write("pub.pem", pubPEM),
		"-in", dig, "-sigfile", sigf, "-pkeyopt", "digest:sha256").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Success") {
		t.Fatalf("openssl does not verify the signature: %v: %s", err, out)
	}
}

// pageHasNoPIN fails the test if the PIN is anywhere a page could read it:
// the tab's text and markup, its storage, and what its snooper caught.
func (tb *tab) pageHasNoPIN() {
	tb.w.t.Helper()
	seen := tb.eval(`JSON.stringify([document.documentElement.outerHTML, document.body ? document.body.innerText : "",
  JSON.stringify(localStorage), JSON.stringify(sessionStorage), document.cookie, window.H ? H.snooped : []])`)
	if strings.Contains(seen, tb.w.pin) {
		tb.w.t.Errorf("%s tab: the page can read the PIN", tb.name)
	}
}

// waitFor polls cond until it holds or the time runs out.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
