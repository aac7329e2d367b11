package doctest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// TSA is a real RFC 3161 timestamp authority for tests: `openssl ts
// -reply` (openssl makes the token; no Kyso code is involved) behind an
// HTTP handler. Mode changes what the handler answers, to test the
// client's refusals.
type TSA struct {
	URL string
	Dir string // the TSA's files: tsa.pem, chain.pem (intermediate + root), root.pem
	// Mode: "" a real token; "garbage" random bytes; "http500" an HTTP
	// error; "other" a real token over another imprint; "slow" no answer
	// until the request is cancelled. (A rejection is real too: ask for a
	// policy it does not serve.)
	Mode     atomic.Value
	Requests atomic.Int64
	srv      *httptest.Server
}

// NewTSA starts a TSA signing with the PKI's TSA certificate; it stops
// with the test.
func (p *PKI) NewTSA(t testing.TB) *TSA {
	t.Helper()
	dir := t.TempDir()
	WritePEM(t, dir, "tsa.pem", p.TSA.Cert)
	WritePEM(t, dir, "chain.pem", p.Intermediate.Cert, p.Root.Cert)
	WritePEM(t, dir, "root.pem", p.Root.Cert)
	WriteKey(t, dir, "tsa.key", p.TSA.Key)
	conf := fmt.Sprintf(`[ tsa ]
default_tsa = kyso_tsa
[ kyso_tsa ]
dir = %s
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/chain.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
other_policies = 1.3.6.1.4.1.99999.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
`, dir)
	if err := os.WriteFile(filepath.Join(dir, "ts.cnf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "serial"), []byte("01\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := &TSA{Dir: dir}
	ts.Mode.Store("")
	ts.srv = httptest.NewServer(http.HandlerFunc(ts.serve))
	t.Cleanup(ts.srv.Close)
	ts.URL = ts.srv.URL + "/tsr"
	return ts
}

// Close stops the server: later requests find nobody listening.
func (ts *TSA) Close() { ts.srv.Close() }

func (ts *TSA) serve(w http.ResponseWriter, r *http.Request) {
	ts.Requests.Add(1)
	query, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/timestamp-query" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	switch ts.Mode.Load().(string) {
	case "garbage":
		w.Write([]byte("<html>Service Unavailable</html>"))
		return
	case "http500":
		http.Error(w, "down for maintenance", http.StatusInternalServerError)
		return
	case "slow":
		<-r.Context().Done()
		return
	case "other":
		// A real token, but for another query (other digest, no nonce).
		q, err := exec.Command("openssl", "ts", "-query", "-digest",
			"0000000000000000000000000000000000000000000000000000000000000001", "-sha256", "-cert").Output()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		query = q
	}
	reply, err := ts.reply(query)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	w.Write(reply)
}

func (ts *TSA) reply(query []byte) ([]byte, error) {
	qf := filepath.Join(ts.Dir, fmt.Sprintf("q%d.tsq", ts.Requests.Load()))
	if err := os.WriteFile(qf, query, 0o600); err != nil {
		return nil, err
	}
	defer os.Remove(qf)
	cmd := exec.Command("openssl", "ts", "-reply", "-config", filepath.Join(ts.Dir, "ts.cnf"), "-queryfile", qf)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("openssl ts -reply: %v: %s", err, stderr.String())
	}
	return out, nil
}

// VerifyToken checks a signature timestamp token with `openssl ts
// -verify`: over SHA-256 of the signature value, signed by this TSA,
// chaining to the test root.
func (ts *TSA) VerifyToken(t testing.TB, token, signature []byte) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "token.der")
	if err := os.WriteFile(f, token, 0o600); err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256(signature)
	out, err := exec.Command("openssl", "ts", "-verify", "-token_in", "-in", f, "-digest", hex.EncodeToString(d[:]),
		"-sha256", "-CAfile", filepath.Join(ts.Dir, "root.pem"), "-untrusted", filepath.Join(ts.Dir, "chain.pem")).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("Verification: OK")) {
		t.Fatalf("openssl ts -verify: %v\n%s", err, out)
	}
}
