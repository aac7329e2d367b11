package tsa_test

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"kyso.vn/kyso/document"
	"kyso.vn/kyso/document/tsa"
	"kyso.vn/kyso/internal/doctest"
)

func TestTimestampRealTSA(t *testing.T) {
	p := doctest.Get(t)
	ts := p.NewTSA(t)
	d := sha256.Sum256([]byte("chữ ký"))
	tok, err := tsa.New(ts.URL).Timestamp(context.Background(), d[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "tok.der")
	os.WriteFile(f, tok, 0o600)
	out, err := exec.Command("openssl", "ts", "-verify", "-token_in", "-in", f, "-digest", hex.EncodeToString(d[:]),
		"-sha256", "-CAfile", filepath.Join(ts.Dir, "root.pem"), "-untrusted", filepath.Join(ts.Dir, "chain.pem")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Verification: OK") {
		t.Fatalf("openssl ts -verify: %v\n%s", err, out)
	}
}

// TestBasicAuthNotInReasons: a TSA account in the URL goes as HTTP Basic
// authentication and never into an error a page could read.
func TestBasicAuthNotInReasons(t *testing.T) {
	var gotUser, gotPass string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotUser, gotPass, _ = r.BasicAuth()
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer srv.Close()
	u := strings.Replace(srv.URL, "http://", "http://kyso:s3cr3t@", 1)
	d := sha256.Sum256(nil)
	_, err := tsa.New(u).Timestamp(context.Background(), d[:], crypto.SHA256)
	if !document.IsCode(err, document.CodeTimestampFailed) {
		t.Fatalf("err %v", err)
	}
	if gotUser != "kyso" || gotPass != "s3cr3t" {
		t.Fatalf("basic auth %q %q", gotUser, gotPass)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("password in the error: %v", err)
	}
	// Down, with user info: the dial error must not carry it either.
	_, err = tsa.New("http://kyso:s3cr3t@127.0.0.1:1/").Timestamp(context.Background(), d[:], crypto.SHA256)
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("err %v", err)
	}
}

func TestRefusedInputs(t *testing.T) {
	d := sha256.Sum256(nil)
	for _, c := range []struct {
		url string
		d   []byte
		h   crypto.Hash
	}{
		{"ftp://tsa.example/", d[:], crypto.SHA256},
		{"not a url", d[:], crypto.SHA256},
		{"http://127.0.0.1:1/", d[:20], crypto.SHA256},
		{"http://127.0.0.1:1/", d[:20], crypto.SHA1},
	} {
		_, err := tsa.New(c.url).Timestamp(context.Background(), c.d, c.h)
		if !document.IsCode(err, document.CodeTimestampFailed) {
			t.Errorf("%s %v: %v", c.url, c.h, err)
		}
	}
	// A cancelled context.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := doctest.Get(t)
	ts := p.NewTSA(t)
	if _, err := tsa.New(ts.URL).Timestamp(ctx, d[:], crypto.SHA256); !document.IsCode(err, document.CodeTimestampFailed) {
		t.Errorf("cancelled: %v", err)
	}
}
