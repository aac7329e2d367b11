package manifests

import (
	"encoding/json"
	"slices"
	"testing"

	"kyso.vn/kyso/internal/extid"
)

func TestRender(t *testing.T) {
	path := `/opt/ký số/"kyso"`
	ids := append(extid.Kyso.Chromium(), "abcdefghijklmnopabcdefghijklmnop")
	b, err := Chromium(path, ids)
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("chromium manifest is not JSON: %v\n%s", err, b)
	}
	want := []string{"chrome-extension://iglbldmcmaeofmnfneeicieiklknbhdi/", "chrome-extension://abcdefghijklmnopabcdefghijklmnop/"}
	if m.Name != "vn.kyso.signer" || m.Path != path || m.Type != "stdio" ||
		!slices.Equal(m.AllowedOrigins, want) || m.AllowedExtensions != nil {
		t.Fatalf("chromium manifest: %+v", m)
	}
	b, err = Firefox(`C:\Program Files\Kyso\kyso.exe`, extid.Kyso.Firefox.ID)
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

// An id that could break out of the JSON string, or none at all, is refused.
func TestRenderRefusesBadIDs(t *testing.T) {
	for _, ids := range [][]string{nil, {`a", "chrome-extension://evil`}, {"iglbldmcmaeofmnfneeicieiklknbhdI"}} {
		if b, err := Chromium("/usr/bin/kyso", ids); err == nil {
			t.Errorf("Chromium(%q) rendered:\n%s", ids, b)
		}
	}
}
