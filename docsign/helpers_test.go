//go:build linux && cgo

// Package docsign tests the document operations (signPdf, signCms,
// signXml) end to end: the shipped binary (`kyso serve`) on SoftHSM2
// tokens, real zenity dialogs under Xvfb answered by xdotool, and every
// signed document checked by tools Kyso did not write — pdfsig and qpdf
// (poppler, qpdf), openssl cms/ts, xmlsec1 — against the test CA.
package docsign

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"kyso.vn/kyso/internal/testenv"
	"kyso.vn/kyso/protocol"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// docPIN is the PIN of this suite's tokens: distinctive, so that the
// agent's cleanup check (no PIN in any output or file) means something.
const docPIN = "Kyso-Doc-PIN-8r2"

const (
	portal   = "https://hoadon.gdt.gov.vn"
	pinTitle = "^Kyso.*PIN"
)

// Debian's PDFs: pdfTeX and DocBook output with cross-reference and
// object streams, written by nobody on the team.
const (
	libtasn1PDF   = "/usr/share/doc/libtasn1-doc/libtasn1.pdf"
	sharedMimePDF = "/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf"
)

// tokens returns the suite's private token set (made once per process).
var tokens = testenv.SuiteTokens(docPIN)

// startAgent runs the shipped binary with the suite's tokens and the
// portal allowed; system, when set, is the system policy.
func startAgent(t testing.TB, display string, system map[string]any) (*testenv.Agent, *websocket.Conn) {
	t.Helper()
	tk := tokens(t)
	a := testenv.StartAgent(t, testenv.AgentOptions{Tokens: tk, Display: display, SystemPolicy: system,
		Config: map[string]any{"allowedOrigins": []string{portal}, "modules": []string{tk.Module}}})
	c, _, err := a.Dial(portal)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return a, c
}

type response = protocol.Response

func send(t testing.TB, c *websocket.Conn, id, op string, params any) {
	t.Helper()
	b, err := json.Marshal(map[string]any{"id": id, "op": op, "params": params})
	if err != nil {
		t.Fatal(err)
	}
	c.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if err := c.WriteMessage(websocket.TextMessage, b); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// read reads the answer, skipping progress messages.
func read(t testing.TB, c *websocket.Conn) response {
	t.Helper()
	for {
		c.SetReadDeadline(time.Now().Add(150 * time.Second))
		_, b, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		var r struct {
			response
			Progress *protocol.Count `json:"progress"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("answer %.200q: %v", b, err)
		}
		if r.Progress == nil {
			return r.response
		}
	}
}

// signed sends a signing request, types the PIN into the real dialog, and
// returns the decoded result.
func signed[T any](t testing.TB, c *websocket.Conn, display, op string, params any) T {
	t.Helper()
	send(t, c, "s", op, params)
	testenv.AnswerPIN(t, display, pinTitle, docPIN)
	return result[T](t, read(t, c))
}

// refused sends a request that must be refused before any dialog.
func refused(t testing.TB, c *websocket.Conn, op string, params any) response {
	t.Helper()
	send(t, c, "r", op, params)
	return read(t, c)
}

func result[T any](t testing.TB, r response) T {
	t.Helper()
	if !r.OK {
		t.Fatalf("answer %+v", r.Error)
	}
	var v T
	if err := json.Unmarshal(r.Result, &v); err != nil {
		t.Fatalf("result %.200s: %v", r.Result, err)
	}
	return v
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func unb64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("%s: %v (Debian package not installed?)", path, err)
	}
	return b
}

func cert(t testing.TB, name string) *x509.Certificate { return tokens(t).Cert(t, name) }

func certID(t testing.TB, name string) string { return tokens(t).CertID(t, name) }

// run runs a command and fails the test when it fails.
func run(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return out
}

// groffPDF is a small three-page PDF made by groff at test time.
func groffPDF(t testing.TB) []byte {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "doc.ms")
	os.WriteFile(src, []byte(".TL\nKyso docsign test\n.PP\nFirst page.\n.bp\n.PP\nSecond page.\n.bp\n.PP\nThird page.\n"), 0o600)
	return run(t, "groff", "-ms", "-Tpdf", src)
}
