package installer

import (
	"encoding/json"

	"kyso.vn/kyso/internal/extid"
)

// PurposeExtension marks what offers the Kyso extension to the browsers
// (pre-registration: external-extension files, registry keys, examples).
const PurposeExtension = "extension"

// Prereg is one browser's offer to install the Kyso extension from the
// store that publishes id.
type Prereg struct {
	Browser   string
	ID        string
	UpdateURL string
}

// Preregistrations lists what a system-wide install offers, from the one
// id source: Chrome, Chromium and Brave install from the Chrome Web Store,
// Edge from Edge Add-ons. A store whose list is empty (not published yet)
// gets nothing: an offer of an id the store does not have would only fail
// in every browser, over and over. The development id is never offered: no
// store has it. Firefox is not here: its only system-wide way is the
// enterprise policy, which an install must not take over (see FirefoxPolicy).
func Preregistrations(x extid.IDs) []Prereg {
	var out []Prereg
	for _, id := range x.ChromeWebStore {
		for _, b := range []string{Chrome, Chromium, Brave} {
			out = append(out, Prereg{b, id, extid.ChromeWebStoreUpdateURL})
		}
	}
	for _, id := range x.EdgeAddons {
		out = append(out, Prereg{Edge, id, extid.EdgeAddonsUpdateURL})
	}
	return out
}

// ExternalExtensionFile is the content of a Linux/macOS external-extension
// preferences file (<id>.json) that points the browser at a store.
func ExternalExtensionFile(p Prereg) []byte {
	return jsonFile(map[string]string{"external_update_url": p.UpdateURL})
}

// FirefoxPolicy is the policies.json that installs the Kyso add-on from
// addons.mozilla.org (normal_installed: the person may still remove it), or
// nil while the add-on is not listed there. Firefox reads one
// policies.json (or one registry tree) for everything, so Kyso never writes
// it by default: it is an example for the admin to merge, and on Windows
// an MSI feature the admin turns on.
func FirefoxPolicy(x extid.IDs) []byte {
	url := x.FirefoxInstallURL()
	if url == "" {
		return nil
	}
	return jsonFile(map[string]any{"policies": map[string]any{"ExtensionSettings": map[string]any{
		x.Firefox.ID: map[string]string{"installation_mode": "normal_installed", "install_url": url}}}})
}

// SelfHostedPolicy is the Chromium-family enterprise policy that installs a
// self-hosted Kyso CRX (make extension → dist/kyso-chromium.crx and its
// update manifest) from the admin's web server: the only way off the
// stores on Windows and macOS, and the surest on Linux. updateURL is where
// the admin serves kyso-chromium-updates.xml.
func SelfHostedPolicy(id, updateURL string) []byte {
	return jsonFile(map[string]any{"ExtensionSettings": map[string]any{
		id: map[string]string{"installation_mode": "force_installed", "update_url": updateURL}}})
}

func jsonFile(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err) // maps of strings
	}
	return append(b, '\n')
}
