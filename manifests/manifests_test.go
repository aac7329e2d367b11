package manifests

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// ids.json must stay a copy of extension/ids.json: one source of truth.
func TestIDsMatchExtension(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("..", "extension", "ids.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, idsJSON) {
		t.Fatal("manifests/ids.json differs from extension/ids.json: run go generate ./manifests")
	}
}

func TestRender(t *testing.T) {
	path := `/opt/ký số/"kyso"`
	b, err := Chromium(path)
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("chromium manifest is not JSON: %v\n%s", err, b)
	}
	if m.Name != "vn.kyso.signer" || m.Path != path || m.Type != "stdio" ||
		!slices.Equal(m.AllowedOrigins, []string{"chrome-extension://iglbldmcmaeofmnfneeicieiklknbhdi/"}) ||
		m.AllowedExtensions != nil {
		t.Fatalf("chromium manifest: %+v", m)
	}
	b, err = Firefox(`C:\Program Files\Kyso\kyso.exe`)
	if err != nil {
		t.Fatal(err)
	}
	m = Manifest{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("firefox manifest is not JSON: %v\n%s", err, b)
	}
	if m.Name != "vn.kyso.signer" || m.Path != `C:\Program Files\Kyso\kyso.exe` ||
		!slices.Equal(m.AllowedExtensions, []string{"signer@kyso.vn"}) || m.AllowedOrigins != nil {
		t.Fatalf("firefox manifest: %+v", m)
	}
}
