package extid

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The embedded file parses, and its development id is its key's.
func TestEmbedded(t *testing.T) {
	x, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if x.HostName != "vn.kyso.signer" || x.Firefox.ID != "signer@kyso.vn" {
		t.Fatalf("%+v", x)
	}
	if got := x.Chromium(); len(got) == 0 || got[0] != "iglbldmcmaeofmnfneeicieiklknbhdi" {
		t.Fatalf("Chromium() = %v", got)
	}
}

// FromPublicKey agrees with openssl: sha256 of the DER key, first 16 bytes,
// hex digits shifted to a–p.
func TestFromPublicKeyAgreesWithOpenSSL(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("openssl", "dgst", "-sha256", "-hex")
	cmd.Stdin = strings.NewReader(string(der))
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("openssl: %v", err)
	}
	// "SHA2-256(stdin)= <hex>"
	hex := strings.TrimSpace(string(out)[strings.LastIndex(string(out), " ")+1:])
	want := strings.Map(func(r rune) rune {
		if r >= 'a' {
			return r - 'a' + 10 + 'a'
		}
		return r - '0' + 'a'
	}, hex[:32])
	if got := FromPublicKey(der); got != want || !Valid(got) {
		t.Fatalf("FromPublicKey = %s, openssl says %s", got, want)
	}
}

func TestParseRefuses(t *testing.T) {
	good := string(raw)
	for name, body := range map[string]string{
		"wrong dev id":   strings.Replace(good, `"chromiumId": "iglbldmcmaeofmnfneeicieiklknbhdi"`, `"chromiumId": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"`, 1),
		"bad store id":   strings.Replace(good, `"chromeWebStore": []`, `"chromeWebStore": ["ABC"]`, 1),
		"unknown key":    strings.Replace(good, `"edgeAddons"`, `"edgeAddon"`, 1),
		"bad firefox id": strings.Replace(good, `"id": "signer@kyso.vn"`, `"id": "signer"`, 1),
	} {
		if _, err := Parse([]byte(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	x, err := Parse([]byte(strings.Replace(strings.Replace(good,
		`"chromeWebStore": []`, `"chromeWebStore": ["bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"]`, 1),
		`"edgeAddons": []`, `"edgeAddons": ["cccccccccccccccccccccccccccccccc", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"]`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"iglbldmcmaeofmnfneeicieiklknbhdi", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "cccccccccccccccccccccccccccccccc"}
	if got := x.Chromium(); !slices.Equal(got, want) {
		t.Fatalf("Chromium() = %v, want %v", got, want)
	}
	if x.FirefoxInstallURL() != "" {
		t.Fatalf("an unlisted add-on has an install URL")
	}
	if _, err := base64.StdEncoding.DecodeString(x.Development.ChromiumKey); err != nil {
		t.Fatal(err)
	}
}

func TestValid(t *testing.T) {
	for id, want := range map[string]bool{
		"iglbldmcmaeofmnfneeicieiklknbhdi":  true,
		"iglbldmcmaeofmnfneeicieiklknbhd":   false,
		"iglbldmcmaeofmnfneeicieiklknbhdiq": false,
		"iglbldmcmaeofmnfneeicieiklknbhdq":  false,
		"IGLBLDMCMAEOFMNFNEEICIEIKLKNBHDI":  false,
		"":                                  false,
	} {
		if Valid(id) != want {
			t.Errorf("Valid(%q) = %v", id, !want)
		}
	}
}
