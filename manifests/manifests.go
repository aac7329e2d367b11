// Package manifests renders the native-messaging host manifests that tell
// browsers where the Kyso host is and which extensions may start it. The
// ids come from the caller: Kyso's own (internal/extid, the one source)
// and, for kyso install, the system policy's extensionIds.
package manifests

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"text/template"

	"kyso.vn/kyso/internal/extid"
)

//go:embed chromium.json.tmpl
var chromiumTmpl string

//go:embed firefox.json.tmpl
var firefoxTmpl string

// HostName is the native-messaging host name (vn.kyso.signer).
func HostName() string { return extid.Kyso.HostName }

// Origins are the allowed_origins entries of Chromium-family ids.
func Origins(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = "chrome-extension://" + id + "/"
	}
	return out
}

// Chromium renders the manifest for Chrome, Chromium, Edge and Brave with
// the host binary at path (absolute, or relative to the manifest on
// Windows), allowing the extensions ids (at least one, each well formed).
func Chromium(path string, ids []string) ([]byte, error) {
	if len(ids) == 0 {
		return nil, fmt.Errorf("manifests: no extension id to allow")
	}
	for _, id := range ids {
		if !extid.Valid(id) {
			return nil, fmt.Errorf("manifests: %q is not a Chromium extension id", id)
		}
	}
	return render("chromium", chromiumTmpl, path, ids, "")
}

// Firefox renders the manifest for Firefox with the host binary at path,
// allowing the add-on id.
func Firefox(path, id string) ([]byte, error) {
	return render("firefox", firefoxTmpl, path, nil, id)
}

func render(name, text, path string, chromium []string, firefox string) ([]byte, error) {
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
	}{HostName(), path, firefox, chromium})
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
