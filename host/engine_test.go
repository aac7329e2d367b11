package host

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/engine"
	"kyso.vn/kyso/internal/extid"
	"kyso.vn/kyso/internal/testenv"
	"kyso.vn/kyso/prompt/prompttest"
	"kyso.vn/kyso/token/pkcs11"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const portal = "https://dichvucong.example.gov.vn"

// newEngine is the real engine on the SoftHSM tokens with a scripted
// prompter, allowing portal by the user's config.
func newEngine(t *testing.T, p *prompttest.Prompter) *engine.Engine {
	t.Helper()
	tk := testenv.Shared(t)
	dir := t.TempDir()
	user := filepath.Join(dir, "config.json")
	if err := os.WriteFile(user, []byte(`{"allowedOrigins":["`+portal+`"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(engine.Options{
		Provider: pkcs11.New(pkcs11.Options{Modules: []string{tk.Module}, NoDiscovery: true, Log: zerolog.New(io.Discard)}),
		Prompter: p,
		Paths:    engine.Paths{System: filepath.Join(dir, "policy.json"), User: user, Approvals: filepath.Join(dir, "approvals.json")},
		Log:      zerolog.New(io.Discard),
		Lang:     "en",
	})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// certFile reads a test certificate and returns it with its certificateId.
func certFile(t *testing.T, name string) (*x509.Certificate, string) {
	t.Helper()
	b, err := os.ReadFile(testenv.Shared(t).CertFile(name))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(c.Raw)
	return c, fmt.Sprintf("%x", sum)
}

// verifyOpenSSL checks an RSA PKCS#1 v1.5 SHA-256 signature of hash with
// openssl, independently of Go's crypto.
func verifyOpenSSL(t *testing.T, certPEM string, hash, sig []byte) {
	t.Helper()
	dir := t.TempDir()
	pub := filepath.Join(dir, "pub.pem")
	out, err := exec.Command("openssl", "x509", "-in", certPEM, "-pubkey", "-noout", "-out", pub).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl x509: %v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(dir, "hash"), hash, 0o600)
	os.WriteFile(filepath.Join(dir, "sig"), sig, 0o600)
	out, err = exec.Command("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pub,
		"-in", filepath.Join(dir, "hash"), "-sigfile", filepath.Join(dir, "sig"),
		"-pkeyopt", "digest:sha256").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl pkeyutl -verify: %v\n%s", err, out)
	}
}

// TestEngineBackends runs the same exchanges through the in-process engine
// and through the real agent's local socket (the relay), each time on the
// SoftHSM tokens, and checks the signatures with Go and openssl.
func TestEngineBackends(t *testing.T) {
	cert, certID := certFile(t, testenv.CertRSA)
	for _, mode := range []string{"in-process", "relay"} {
		t.Run(mode, func(t *testing.T) {
			p := prompttest.New()
			p.Shown = make(chan prompttest.Call, 10)
			eng := newEngine(t, p)
			var b Backend = eng
			if mode == "relay" {
				r := startAgent(t, eng)
				defer r.Close()
				b = r
			}
			h := start(t, b)

			h.send(`{"origin":"` + portal + `","request":{"id":"v","op":"version"}}`)
			if r := h.recv(); !r.OK || r.ID != "v" {
				t.Fatalf("version: %+v", r)
			}
			h.send(`{"origin":"https://not-listed.example.com","request":{"id":"d","op":"getCertificate","params":{}}}`)
			// Not listed: the engine asks the person, who is scripted to
			// cancel by default.
			if r := h.recv(); r.OK || r.ID != "d" || r.Error.Code != "USER_CANCELLED" {
				t.Fatalf("unlisted origin: %+v", r)
			}
			if c := <-p.Shown; c.Kind != "approve" || c.Origin != "https://not-listed.example.com" {
				t.Fatalf("dialog shown: %+v", c)
			}

			hash := sha256.Sum256([]byte("tờ khai thuế " + mode))
			p.OnPIN(prompttest.PIN(testenv.PIN))
			h.send(`{"origin":"` + portal + `","request":{"id":"s1","op":"sign","params":{"certificateId":"` + certID +
				`","hash":"` + base64.StdEncoding.EncodeToString(hash[:]) + `","hashFunction":"SHA-256","description":"Tờ khai"}}}`)
			r := h.recv()
			var res struct{ Signature []byte }
			if err := json.Unmarshal(r.Result, &res); !r.OK || r.ID != "s1" || err != nil {
				t.Fatalf("sign: %+v %s", r, r.Result)
			}
			if c := <-p.Shown; c.Kind != "pin" || c.Origin != portal {
				t.Fatalf("dialog shown: %+v", c)
			}
			if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, hash[:], res.Signature); err != nil {
				t.Fatalf("Go verify: %v", err)
			}
			verifyOpenSSL(t, testenv.Shared(t).CertFile(testenv.CertRSA), hash[:], res.Signature)

			// A PIN dialog left open is closed when the browser goes away.
			p.OnPIN(prompttest.Block())
			h.send(`{"origin":"` + portal + `","request":{"id":"p","op":"sign","params":{"certificateId":"` + certID +
				`","hash":"` + base64.StdEncoding.EncodeToString(hash[:]) + `","hashFunction":"SHA-256"}}}`)
			if c := <-p.Shown; c.Kind != "pin" {
				t.Fatalf("dialog shown: %+v", c)
			}
			if err := h.end(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestBinary runs the real kyso binary as Chrome and Firefox start it.
func TestBinary(t *testing.T) {
	bin := testenv.KysoBinary(t)
	env := append(os.Environ(),
		// No agent socket, no user config, logs in a temp dir.
		"XDG_RUNTIME_DIR="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir(), "XDG_CACHE_HOME="+t.TempDir(), "HOME="+t.TempDir())
	for _, args := range [][]string{
		{"chrome-extension://" + extid.Kyso.Development.ChromiumID + "/"},
		{filepath.Join(t.TempDir(), extid.Kyso.HostName+".json"), extid.Kyso.Firefox.ID},
	} {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		in, _ := cmd.StdinPipe()
		out, _ := cmd.StdoutPipe()
		var stderr limitedBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		send := func(s string) {
			b := []byte(s)
			hdr := []byte{byte(len(b)), byte(len(b) >> 8), byte(len(b) >> 16), byte(len(b) >> 24)}
			if _, err := in.Write(append(hdr, b...)); err != nil {
				t.Fatal(err)
			}
		}
		send(`{"origin":"https://a.example.vn","request":{"id":"v1","op":"version"}}`)
		send(`garbage`)
		send(`{"origin":"http://a.example.vn","request":{"id":"v2","op":"version"}}`)
		in.Close()
		all, err := io.ReadAll(out)
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("%q: %v\n%s", args, err, stderr.String())
		}
		// Stdout holds exactly three frames and nothing else.
		var got []response
		for len(all) > 0 {
			if len(all) < 4 {
				t.Fatalf("stray bytes on stdout: %q", all)
			}
			n := int(all[0]) | int(all[1])<<8 | int(all[2])<<16 | int(all[3])<<24
			if len(all) < 4+n {
				t.Fatalf("stray bytes on stdout: %q", all)
			}
			var r response
			if err := json.Unmarshal(all[4:4+n], &r); err != nil {
				t.Fatalf("frame %q: %v", all[4:4+n], err)
			}
			got = append(got, r)
			all = all[4+n:]
		}
		// Answers come in the order they finish, not the order asked.
		byID := map[string]response{}
		for _, r := range got {
			byID[r.ID] = r
		}
		if len(got) != 3 || len(byID) != 3 {
			t.Fatalf("%q: answers %+v", args, got)
		}
		var ver struct {
			Version  string
			Protocol int
		}
		json.Unmarshal(byID["v1"].Result, &ver)
		if r := byID["v1"]; !r.OK || ver.Protocol != 1 || ver.Version == "" {
			t.Fatalf("version: %+v %s", r, r.Result)
		}
		if r := byID[""]; r.OK || r.Error.Code != "BAD_REQUEST" {
			t.Fatalf("garbage: %+v", r)
		}
		if r := byID["v2"]; r.OK || r.Error.Code != "ORIGIN_DENIED" {
			t.Fatalf("http origin: %+v", r)
		}
	}

	// Anyone else is refused before a byte is read.
	for _, args := range [][]string{
		{"chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"},
		{"/tmp/x.json", "evil@example.com"},
		{"host"},
	} {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.Output()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || len(out) != 0 || len(ee.Stderr) == 0 {
			t.Fatalf("%q: %v, stdout %q", args, err, out)
		}
	}
}

type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if len(l.b) < 64<<10 {
		l.b = append(l.b, p...)
	}
	return len(p), nil
}
func (l *limitedBuffer) String() string { return string(l.b) }
