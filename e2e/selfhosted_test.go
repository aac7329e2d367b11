package e2e_test

// The enterprise path, in real Chromium: the extension packed into a CRX3
// by extension/build.js with a key that is not Kyso's (so its id is not the
// pinned one, as in CI or an admin's own build), served with its update
// manifest from a web server, installed by Chromium itself from the system
// (a managed policy, or a Linux external-extension file), allowed by the
// system policy's extensionIds — and a real signature through it.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kyso.vn/kyso/internal/extid"
	"kyso.vn/kyso/internal/testenv"
	"kyso.vn/kyso/manifests"
)

// selfHosted is a CRX and its update manifest on a local web server.
type selfHosted struct {
	id        string // the extension id of the CRX's key
	updateURL string // the update manifest's address
	mu        sync.Mutex
	fetched   []string // request lines the server answered
}

// packSelfHosted makes a throwaway RSA key, packs the extension with it
// through build.js, and serves the CRX and its update manifest.
func packSelfHosted(t *testing.T, root string) *selfHosted {
	t.Helper()
	dir := t.TempDir()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "admin-key.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	s := &selfHosted{id: extid.FromPublicKey(pub)}
	if s.id == extid.Kyso.Development.ChromiumID {
		t.Fatal("a fresh key gave Kyso's pinned id")
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	www := filepath.Join(dir, "www")
	cmd := exec.Command("node", filepath.Join(root, "extension", "build.js"), "--out", filepath.Join(dir, "build"),
		"--crx", www, "--key", keyFile, "--codebase", base+"/kyso-chromium.crx")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build.js --crx: %v\n%s", err, out)
	}
	xml, err := os.ReadFile(filepath.Join(www, "kyso-chromium-updates.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`appid='([a-p]{32})'`).FindSubmatch(xml); m == nil || string(m[1]) != s.id {
		t.Fatalf("the update manifest names another id than the key's %s:\n%s", s.id, xml)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.fetched = append(s.fetched, r.URL.Path+"?"+r.URL.RawQuery)
		s.mu.Unlock()
		switch r.URL.Path {
		case "/kyso-chromium-updates.xml":
			rw.Header().Set("Content-Type", "text/xml")
		case "/kyso-chromium.crx":
			rw.Header().Set("Content-Type", "application/x-chrome-extension")
		default:
			http.NotFound(rw, r)
			return
		}
		http.ServeFile(rw, r, filepath.Join(www, filepath.Base(r.URL.Path)))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	s.updateURL = base + "/kyso-chromium-updates.xml"
	return s
}

// requested says whether the browser fetched path, and how it said it
// installs the extension (installedby=policy / external).
func (s *selfHosted) requested(path, by string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.fetched {
		if strings.HasPrefix(f, path) && strings.Contains(f, by) {
			return true
		}
	}
	return false
}

// systemPolicy is Kyso's system policy listing the self-hosted id.
func systemPolicy(id string) []byte {
	return []byte(`{"extensionIds": ["` + id + `"]}` + "\n")
}

// TestSelfHostedCRXPolicy: Chromium installs the CRX from the managed
// policy (ExtensionSettings force_installed with the update URL, the file
// an admin deploys), kyso install puts the id the policy lists into the
// host manifest, the host accepts it as a caller, and the demo form is
// signed through it and verified.
func TestSelfHostedCRXPolicy(t *testing.T) {
	root := testenv.RepoRoot(t)
	crx := packSelfHosted(t, root)
	managed, err := json.Marshal(map[string]any{"ExtensionSettings": map[string]any{
		crx.id: map[string]string{"installation_mode": "force_installed", "update_url": crx.updateURL}}})
	if err != nil {
		t.Fatal(err)
	}
	sys := newSysOverlay(t, map[string][]byte{
		"/etc/kyso/policy.json":                        systemPolicy(crx.id),
		"/etc/chromium/policies/managed/kyso-e2e.json": managed,
	})
	w := newWorld(t, setup{native: true, sys: sys, managed: crx.id, flags: []chromedp.ExecAllocatorOption{chromedp.WindowSize(1280, 900)}})
	if !crx.requested("/kyso-chromium-updates.xml", "installedby%3Dpolicy") || !crx.requested("/kyso-chromium.crx", "") {
		t.Errorf("Chromium did not fetch the update manifest and the CRX as a policy install: %v", crx.fetched)
	}
	w.hostAcceptsOnlyWithPolicy(crx.id)
	w.signForm()
	w.showExtensions(crx.id, "kyso-extension-policy.png")
}

// TestSelfHostedCRXExternalFile: on Linux an external-extension file
// (/usr/share/chromium/extensions/<id>.json with external_update_url, the
// same mechanism the packages use for the store ids) installs the
// self-hosted CRX too, without a prompt.
func TestSelfHostedCRXExternalFile(t *testing.T) {
	root := testenv.RepoRoot(t)
	crx := packSelfHosted(t, root)
	sys := newSysOverlay(t, map[string][]byte{
		"/etc/kyso/policy.json":                              systemPolicy(crx.id),
		"/usr/share/chromium/extensions/" + crx.id + ".json": []byte(`{"external_update_url": "` + crx.updateURL + `"}` + "\n"),
	})
	w := newWorld(t, setup{native: true, sys: sys, managed: crx.id, flags: []chromedp.ExecAllocatorOption{chromedp.WindowSize(1280, 900)}})
	if !crx.requested("/kyso-chromium-updates.xml", "installedby%3Dexternal") {
		t.Errorf("Chromium did not fetch the update manifest as an external install: %v", crx.fetched)
	}
	w.showExtensions(crx.id, "kyso-extension-external.png")
}

// hostAcceptsOnlyWithPolicy runs the host as Chromium starts it for the
// self-hosted id: refused with the machine's own system files (no
// extensionIds there), accepted in the test's overlay, whose system policy
// lists it. And the manifest kyso install wrote allows it.
func (w *world) hostAcceptsOnlyWithPolicy(id string) {
	t := w.t
	b, err := os.ReadFile(filepath.Join(w.udd, "NativeMessagingHosts", manifests.HostName()+".json"))
	if err != nil || !strings.Contains(string(b), "chrome-extension://"+id+"/") {
		t.Fatalf("kyso install did not allow the policy's id %s (%v):\n%s", id, err, b)
	}
	run := func(c *exec.Cmd) (int, string) {
		c.Env = w.env
		c.Stdin = strings.NewReader("") // the browser closed the port at once
		out, err := c.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	if w.sys.wrap != "" { // in a namespace: outside it is the machine as it is
		if code, out := run(exec.Command(w.kyso, "chrome-extension://"+id+"/")); code != 2 || !strings.Contains(out, "not the Kyso extension") {
			t.Errorf("without the policy, the host answered the self-hosted id: exit %d\n%s", code, out)
		}
	}
	if code, out := run(w.sys.command(w.kyso, "chrome-extension://"+id+"/")); code != 0 {
		t.Errorf("with the policy, the host refused the self-hosted id: exit %d\n%s", code, out)
	}
}

// showExtensions opens chrome://extensions, checks that it lists the
// extension, and keeps a picture of it: in $KYSO_SCREENSHOTS when set (the
// one in docs/ comes from there), else in the test's temp dir.
func (w *world) showExtensions(id, name string) {
	t := w.t
	w.run(chromedp.Navigate("chrome://extensions/"))
	item := fmt.Sprintf(`(() => { const m = document.querySelector("extensions-manager");
		const list = m && m.shadowRoot.querySelector("extensions-item-list");
		const it = list && list.shadowRoot.querySelector("extensions-item#%s");
		return it ? it.shadowRoot.querySelector("#name").textContent.trim() : ""; })()`, id)
	var got string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if got = w.eval(item); got != "" {
			break
		}
	}
	if !strings.HasPrefix(got, "Kyso") {
		t.Fatalf("chrome://extensions does not list %s as Kyso (%q)", id, got)
	}
	// Developer mode shows the id, which is what an admin compares.
	w.eval(`(() => { const t = document.querySelector("extensions-manager").shadowRoot
		.querySelector("extensions-toolbar").shadowRoot.querySelector("#devMode");
		if (t && !t.checked) t.click(); return ""; })()`)
	time.Sleep(500 * time.Millisecond)
	ctx, cancel := context.WithTimeout(w.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("KYSO_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	p := filepath.Join(dir, name)
	os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("chrome://extensions lists %q (%s): %s", got, id, p)
}
