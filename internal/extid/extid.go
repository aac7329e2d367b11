// Package extid is the one source of Kyso's extension identity: the
// native-messaging host name, the pinned development id (from its public
// key), the published store ids and the Firefox add-on id. They live in
// ids.json beside this file, which the Go side embeds and the extension
// build (extension/build.js) reads by path, so no copy can drift.
package extid

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sync"
)

//go:embed ids.json
var raw []byte

// Update URLs of the stores, for pre-registration (external_update_url,
// the Windows registry's update_url, ExtensionInstallForcelist).
const (
	ChromeWebStoreUpdateURL = "https://clients2.google.com/service/update2/crx"
	EdgeAddonsUpdateURL     = "https://edge.microsoft.com/extensionwebstorebase/v1/crx"
)

// IDs is ids.json.
type IDs struct {
	Comment     string `json:"_comment,omitempty"` // for people editing the file
	HostName    string `json:"hostName"`
	Development struct {
		ChromiumID  string `json:"chromiumId"`
		ChromiumKey string `json:"chromiumKey"` // base64 DER SubjectPublicKeyInfo
	} `json:"development"`
	ChromeWebStore []string `json:"chromeWebStore"` // Chrome, Chromium, Brave install from here
	EdgeAddons     []string `json:"edgeAddons"`
	Firefox        struct {
		ID               string `json:"id"`
		AddonsMozillaOrg bool   `json:"addonsMozillaOrg"` // listed (and signed) on addons.mozilla.org
	} `json:"firefox"`
}

// Kyso is the embedded ids.json. It is only decoded when the program
// starts (every cold `kyso host` pays for this); TestEmbedded checks it with
// Parse, so a bad id cannot be built in.
var Kyso = mustDecode(raw)

func mustDecode(b []byte) IDs {
	var x IDs
	if err := json.Unmarshal(b, &x); err != nil {
		panic(err) // the embedded file; TestEmbedded keeps it valid
	}
	return x
}

// Load reads an ids.json of the same form from path: for the package
// builders' tests, which stage packages as if store ids were published.
func Load(path string) (IDs, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return IDs{}, fmt.Errorf("extid: %w", err)
	}
	return Parse(b)
}

// Parse decodes and checks an ids.json: every id well formed, the
// development id the one its key gives.
func Parse(b []byte) (IDs, error) {
	var x IDs
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&x); err != nil {
		return x, fmt.Errorf("extid: ids.json: %w", err)
	}
	if x.HostName == "" || x.Firefox.ID == "" {
		return x, fmt.Errorf("extid: ids.json lacks hostName or firefox.id")
	}
	key, err := base64.StdEncoding.DecodeString(x.Development.ChromiumKey)
	if err != nil {
		return x, fmt.Errorf("extid: development.chromiumKey: %w", err)
	}
	if got := FromPublicKey(key); got != x.Development.ChromiumID {
		return x, fmt.Errorf("extid: development.chromiumId %q is not the id of chromiumKey (%s)", x.Development.ChromiumID, got)
	}
	for _, id := range append(slices.Clone(x.ChromeWebStore), x.EdgeAddons...) {
		if !Valid(id) {
			return x, fmt.Errorf("extid: store id %q: not a Chromium extension id (32 letters a–p)", id)
		}
	}
	if !firefoxID().MatchString(x.Firefox.ID) {
		return x, fmt.Errorf("extid: firefox.id %q: not an add-on id (name@domain or {uuid})", x.Firefox.ID)
	}
	return x, nil
}

// Chromium lists the Chromium-family ids Kyso itself allows: the pinned
// development id, then the Chrome Web Store's and Edge Add-ons' ids.
func (x IDs) Chromium() []string {
	return Merge([]string{x.Development.ChromiumID}, x.ChromeWebStore, x.EdgeAddons)
}

// FirefoxInstallURL is addons.mozilla.org's address of the latest signed
// version, or "" while the add-on is not listed there.
func (x IDs) FirefoxInstallURL() string {
	if !x.Firefox.AddonsMozillaOrg {
		return ""
	}
	return "https://addons.mozilla.org/firefox/downloads/latest/" + x.Firefox.ID + "/latest.xpi"
}

// Merge joins lists of ids in order, without repeats.
func Merge(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		for _, id := range l {
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	return out
}

// firefoxID is compiled when first used (checking the embedded ids), not at
// every kyso start: a package-level regexp costs each cold `kyso host`.
var firefoxID = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^([A-Za-z0-9._+-]+@[A-Za-z0-9.-]+|\{[0-9A-Fa-f-]{36}\})$`)
})

// Valid says whether id has the form of a Chromium extension id: 32
// letters a–p (the hex digits of a SHA-256 prefix, shifted to letters).
func Valid(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 'a' || id[i] > 'p' {
			return false
		}
	}
	return true
}

// FromPublicKey is the Chromium extension id of a public key (DER
// SubjectPublicKeyInfo): the first 16 bytes of its SHA-256, each hex
// digit written as a letter a–p. It is how Chromium names an unpacked
// extension with a "key" and a CRX packed with that key.
func FromPublicKey(der []byte) string {
	sum := sha256.Sum256(der)
	out := make([]byte, 32)
	for i, b := range sum[:16] {
		out[2*i] = 'a' + b>>4
		out[2*i+1] = 'a' + b&15
	}
	return string(out)
}
