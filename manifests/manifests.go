// Package manifests renders the native-messaging host manifests that tell
// browsers where the Kyso host is and which extensions may start it.
//
// The extension ids have one source of truth, extension/ids.json; ids.json
// here is a byte-for-byte copy (go generate refreshes it, and a test fails
// when the two differ), because go:embed cannot reach outside this folder.
package manifests

//go:generate cp ../extension/ids.json ids.json

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"text/template"
)

//go:embed ids.json
var idsJSON []byte

//go:embed chromium.json.tmpl
var chromiumTmpl string

//go:embed firefox.json.tmpl
var firefoxTmpl string

// IDs are the fixed extension ids and the host name.
type IDs struct {
	HostName        string   `json:"hostName"`
	AllowedChromium []string `json:"allowedChromium"`
	Firefox         string   `json:"firefox"`
}

// Load parses the embedded ids.json.
func Load() (IDs, error) {
	var ids IDs
	if err := json.Unmarshal(idsJSON, &ids); err != nil {
		return ids, fmt.Errorf("manifests: ids.json: %w", err)
	}
	if ids.HostName == "" || len(ids.AllowedChromium) == 0 || ids.Firefox == "" {
		return ids, fmt.Errorf("manifests: ids.json lacks hostName, allowedChromium or firefox")
	}
	return ids, nil
}

// HostName is the native-messaging host name (vn.kyso.signer).
func HostName() string {
	ids, err := Load()
	if err != nil {
		panic(err) // the embedded file is checked by the tests
	}
	return ids.HostName
}

// ChromiumOrigins are the allowed_origins entries for the Chromium family.
func ChromiumOrigins() []string {
	ids, _ := Load()
	out := make([]string, len(ids.AllowedChromium))
	for i, id := range ids.AllowedChromium {
		out[i] = "chrome-extension://" + id + "/"
	}
	return out
}

// FirefoxID is the Firefox extension id (allowed_extensions).
func FirefoxID() string { ids, _ := Load(); return ids.Firefox }

// Chromium renders the manifest for Chrome, Chromium, Edge and Brave with
// the host binary at path (absolute).
func Chromium(path string) ([]byte, error) { return render("chromium", chromiumTmpl, path) }

// Firefox renders the manifest for Firefox with the host binary at path.
func Firefox(path string) ([]byte, error) { return render("firefox", firefoxTmpl, path) }

func render(name, text, path string) ([]byte, error) {
	ids, err := Load()
	if err != nil {
		return nil, err
	}
	t, err := template.New(name).Funcs(template.FuncMap{"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	}}).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("manifests: %s template: %w", name, err)
	}
	var buf bytes.Buffer
	err = t.Execute(&buf, struct {
		HostName, Path, Firefox string
		Chromium                []string
	}{ids.HostName, path, ids.Firefox, ids.AllowedChromium})
	if err != nil {
		return nil, fmt.Errorf("manifests: %s template: %w", name, err)
	}
	return buf.Bytes(), nil
}

// Manifest is the parsed form of either kind, for checking installed files.
type Manifest struct {
	Name              string   `json:"name"`
	Description       string   `json:"description"`
	Path              string   `json:"path"`
	Type              string   `json:"type"`
	AllowedOrigins    []string `json:"allowed_origins,omitempty"`
	AllowedExtensions []string `json:"allowed_extensions,omitempty"`
}
