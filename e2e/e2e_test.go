package e2e_test

import (
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// signForm fills the demo form with its sample data, submits it, answers the
// dialogs and checks that the portal's server verified the signature, and
// that openssl agrees.
func (w *world) signForm() {
	t := w.t
	t.Helper()
	w.run(chromedp.Navigate(w.page("/")), chromedp.WaitVisible(chromedp.ID("ky-nop")))
	w.eval(`document.getElementById('dien-mau').click(), ''`)
	w.eval(`document.getElementById('ky-nop').click(), ''`)
	got := w.awaitResult(true)
	if got.State != "valid" {
		t.Fatalf("the portal did not verify the signature: state %q code %q\n%s", got.State, got.Code, got.Text)
	}
	for _, want := range []string{"Chữ ký hợp lệ", "NGUYỄN VĂN AN", "Kyso Test CA", "Mã hồ sơ: HS-"} {
		if !strings.Contains(got.Text, want) {
			t.Errorf("result lacks %q:\n%s", want, got.Text)
		}
	}
	if chain := w.eval(`document.querySelector('#ket-qua .chuoi').textContent`); !strings.HasPrefix(chain, "hợp lệ") {
		t.Errorf("chain not verified: %q", chain)
	}
	w.opensslVerify()
}

// opensslVerify checks the page's last signature with openssl, apart from
// the server's Go crypto.
func (w *world) opensslVerify() {
	t := w.t
	t.Helper()
	dir := t.TempDir()
	write := func(name, b64 string) string {
		b, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(b) == 0 {
			t.Fatalf("%s: bad base64 %q", name, b64)
		}
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o600)
		return p
	}
	cert := write("cert.der", w.eval(`window.kysoDemo.certificate`))
	dig := write("hash.bin", w.eval(`window.kysoDemo.hash`))
	sig := write("sig.bin", w.eval(`window.kysoDemo.signature`))
	pub, err := exec.Command("openssl", "x509", "-inform", "DER", "-in", cert, "-pubkey", "-noout").Output()
	if err != nil {
		t.Fatalf("openssl x509: %v", err)
	}
	pubf := filepath.Join(dir, "pub.pem")
	os.WriteFile(pubf, pub, 0o600)
	out, err := exec.Command("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pubf,
		"-in", dig, "-sigfile", sig, "-pkeyopt", "digest:sha256").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Success") {
		t.Fatalf("openssl does not verify the signature: %v: %s", err, out)
	}
	// The hash the page signed is the one the server recomputed.
	if h := w.eval(`document.querySelector('#ket-qua .nho').textContent`); !strings.Contains(h, hexOf(t, w.eval(`window.kysoDemo.hash`))) {
		t.Errorf("server hash differs from the signed one: %s", h)
	}
}

func hexOf(t *testing.T, b64 string) string {
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// signBatch signs the batch page's 100 documents with one PIN.
func (w *world) signBatch() {
	t := w.t
	t.Helper()
	w.run(chromedp.Navigate(w.page("/ky-hang-loat")), chromedp.WaitEnabled(chromedp.ID("ky-lo")))
	if n := w.eval(`String(document.querySelectorAll('#bang-van-ban tbody tr').length)`); n != "100" {
		t.Fatalf("%s documents on the batch page", n)
	}
	w.eval(`document.getElementById('ky-lo').click(), ''`)
	got := w.awaitResult(true)
	if got.State != "valid" {
		t.Fatalf("batch not verified: state %q code %q\n%s", got.State, got.Code, got.Text)
	}
	if v := w.eval(`document.getElementById('ket-qua').dataset.verified`); v != "100" {
		t.Fatalf("server verified %s of 100", v)
	}
}

// With the agent running, the native host relays to it over the local socket.
func TestExtensionWithAgent(t *testing.T) {
	w := newWorld(t, setup{extension: true, native: true, agent: true})
	w.signForm()
	w.signBatch()
}

// Without the agent, the browser-launched host runs the engine itself.
func TestExtensionWithoutAgent(t *testing.T) {
	w := newWorld(t, setup{extension: true, native: true})
	w.signForm()
}

// Without the extension, kyso.js falls back to the agent's WebSocket.
func TestWebSocketFallback(t *testing.T) {
	w := newWorld(t, setup{agent: true})
	w.signForm()
}

// With neither the extension nor the agent, the page says Kyso is not
// installed and shows how to install it.
func TestNotInstalled(t *testing.T) {
	w := newWorld(t, setup{})
	w.run(chromedp.Navigate(w.page("/")), chromedp.WaitVisible(chromedp.ID("ky-nop")))
	w.eval(`document.getElementById('dien-mau').click(), ''`)
	w.eval(`document.getElementById('ky-nop').click(), ''`)
	got := w.awaitResult(false)
	if got.State != "error" || got.Code != "NOT_INSTALLED" {
		t.Fatalf("state %q code %q:\n%s", got.State, got.Code, got.Text)
	}
	if !strings.Contains(got.Text, "Chưa tìm thấy Kyso") {
		t.Errorf("no install hint:\n%s", got.Text)
	}
	if open := w.eval(`String(document.getElementById('huong-dan').open)`); open != "true" {
		t.Errorf("install steps not opened")
	}
}
