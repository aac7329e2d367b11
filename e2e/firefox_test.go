package e2e_test

// kyso.js's Local Network Access logic in real Firefox (Debian's
// firefox-esr, 153 here), headless, driven without WebDriver: the page
// posts what kyso.js did to the test's server. Measured with it: Firefox
// knows the permission names "loopback-network" and "local-network" and
// throws for "local-network-access"; its LNA gate covers WebSockets only
// with network.lna.websocket.enabled (off by default in 153 ESR); with the
// gate on, a public page's socket to a loopback port that listens waits
// for the prompt (one to a port nothing listens on fails at once, as in
// Chromium), and headless Firefox never answers the prompt.
// network.lna.skip-domains (what the LocalNetworkAccess enterprise
// policy's SkipDomains sets) lets a site through without a prompt. The
// agent's port is held by a WebSocket endpoint that answers every request
// (a stand-in: what is tested is kyso.js in Firefox; the real agent is
// tested in Chromium).

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

const firefoxPage = `<!doctype html><meta charset="utf-8"><title>Kyso Firefox</title><p>Firefox</p>
<script type="module">
import * as K from "/kyso.js";
const q = new URLSearchParams(location.search);
const r = { states: [], names: {} };
for (const n of ["loopback-network", "local-network-access", "local-network"]) {
  try { r.names[n] = (await navigator.permissions.query({ name: n })).state; } catch (e) { r.names[n] = "throws"; }
}
const send = () => fetch("/done", { method: "POST", body: JSON.stringify(r) });
const c = K.createClient({ port: Number(q.get("port")), onStateChange: (s, info) => {
  r.states.push(s + ":" + (info.permission || ""));
  // Headless Firefox never answers the prompt: report the wait at once.
  if (s === "waiting-for-browser-permission" && q.has("gated")) send();
} });
r.detect = await c.detect();
try { await c.version(); r.code = "OK"; } catch (e) { r.code = e.code; r.detail = e.detail; }
send();
</script>`

type firefoxResult struct {
	States []string          `json:"states"`
	Names  map[string]string `json:"names"`
	Code   string            `json:"code"`
	Detail string            `json:"detail"`
	Detect struct {
		LocalNetworkAccess string `json:"localNetworkAccess"`
		Permission         string `json:"permission"`
	} `json:"detect"`
}

// runFirefox opens the page in a fresh headless Firefox profile with prefs
// and returns the page's first report.
func runFirefox(t *testing.T, ff string, gated bool, prefs map[string]any) firefoxResult {
	t.Helper()
	got := make(chan []byte, 4)
	mux := http.NewServeMux()
	serveKysoJS(t, mux)
	servePage(mux, "GET /{$}", firefoxPage)
	mux.HandleFunc("POST /done", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- b
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	agentPort := echoAgent(t)

	profile := t.TempDir()
	prefs["network.lna.address_space.public.override"] = "127.0.0.1:" + strconv.Itoa(port)
	prefs["browser.shell.checkDefaultBrowser"] = false
	prefs["datareporting.policy.dataSubmissionEnabled"] = false
	prefs["toolkit.telemetry.reportingpolicy.firstRun"] = false
	var userJS string
	for k, v := range prefs {
		b, _ := json.Marshal(v)
		userJS += fmt.Sprintf("user_pref(%q, %s);\n", k, b)
	}
	if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(userJS), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(t.TempDir(), "firefox.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	url := fmt.Sprintf("http://127.0.0.1:%d/?port=%d", port, agentPort)
	if gated {
		url += "&gated"
	}
	cmd := exec.CommandContext(ctx, ff, "--headless", "--no-remote", "--profile", profile, url)
	cmd.Env = append(os.Environ(), "HOME="+profile, "MOZ_CRASHREPORTER_DISABLE=1")
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group: Firefox's content processes go with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", ff, err)
	}
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	}()
	select {
	case b := <-got:
		var r firefoxResult
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("page report %s: %v", b, err)
		}
		return r
	case <-time.After(60 * time.Second):
		b, _ := os.ReadFile(logf.Name())
		t.Fatalf("Firefox's page did not report; its output:\n%s", b)
	}
	return firefoxResult{}
}

// echoAgent serves a WebSocket on a loopback port that answers every
// request {"id"} with a version result, and returns the port.
func echoAgent(t *testing.T) int {
	t.Helper()
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			var req struct{ ID string }
			if err := c.ReadJSON(&req); err != nil {
				return
			}
			c.WriteJSON(map[string]any{"id": req.ID, "ok": true, "result": map[string]any{"version": "echo", "protocol": 1}})
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

func TestFirefoxLNA(t *testing.T) {
	ff, err := exec.LookPath("firefox-esr")
	if err != nil {
		t.Skipf("firefox-esr not installed: %v", err)
	}
	// The gate on for WebSockets: the socket waits for the prompt and
	// kyso.js says so (it then waits without a limit; the page reported).
	r := runFirefox(t, ff, true, map[string]any{"network.lna.websocket.enabled": true})
	t.Logf("gated: %+v", r)
	if r.Names["loopback-network"] != "prompt" || r.Names["local-network-access"] != "throws" || r.Names["local-network"] != "prompt" {
		t.Errorf("permission names in Firefox: %v", r.Names)
	}
	if r.Detect.Permission != "loopback-network" || r.Detect.LocalNetworkAccess != "prompt" {
		t.Errorf("detect(): %+v", r.Detect)
	}
	if r.Code != "" || len(r.States) != 1 || r.States[0] != "waiting-for-browser-permission:loopback-network" {
		t.Errorf("want only the waiting state while the prompt is open: code %q states %v", r.Code, r.States)
	}
	// Firefox 153 ESR as installed: WebSockets are not gated.
	// (On a loaded machine the socket may take longer than waitingAfter
	// to open, so a waiting state may come before "connected".)
	r = runFirefox(t, ff, false, map[string]any{})
	if r.Code != "OK" || !lastIs(r.States, "connected:") {
		t.Errorf("default prefs: code %q (%s) states %v", r.Code, r.Detail, r.States)
	}
	// The site let through (as the LocalNetworkAccess policy's SkipDomains
	// does): no prompt, the socket opens.
	r = runFirefox(t, ff, false, map[string]any{"network.lna.websocket.enabled": true, "network.lna.skip-domains": "127.0.0.1"})
	t.Logf("skipped: %+v", r)
	if r.Code != "OK" || !lastIs(r.States, "connected:") {
		t.Errorf("with the site skipped: code %q (%s) states %v", r.Code, r.Detail, r.States)
	}
}

func lastIs(list []string, s string) bool { return len(list) > 0 && list[len(list)-1] == s }
