package installer

import (
	"path/filepath"
)

// externalExtensionDirs are where each browser looks for external-extension
// files on Linux, read at start for every profile: Chrome's and Chromium's
// documented standalone folders (they survive a browser reinstall), and
// for Edge and Brave the "extensions" folder beside the browser program
// (Chromium's DIR_EXTERNAL_EXTENSIONS), since they document no other.
var externalExtensionDirs = map[string]string{
	Chrome:   "/usr/share/google-chrome/extensions",
	Chromium: "/usr/share/chromium/extensions",
	Edge:     "/opt/microsoft/msedge/extensions",
	Brave:    "/opt/brave.com/brave/extensions",
}

// ExamplesDir holds the policies the packages ship as examples only.
const ExamplesDir = "/usr/share/doc/kyso/examples"

// preregItems are the system-wide pre-registration files: one
// external-extension file per browser and published store id, and in the
// packages the Firefox and self-hosted policies as examples (never read by
// a browser from there).
func preregItems(o Options) []Item {
	if !o.System {
		return nil // the per-user folders hold no external extensions on Linux
	}
	x := o.Identity()
	var items []Item
	for _, p := range Preregistrations(x) {
		items = append(items, Item{Kind: KindFile, Purpose: PurposeExtension, Browsers: []string{p.Browser},
			Path: filepath.Join(externalExtensionDirs[p.Browser], p.ID+".json"), Content: ExternalExtensionFile(p), Mode: 0o644})
	}
	if !o.Package {
		return items
	}
	items = append(items, Item{Kind: KindFile, Purpose: PurposeExtension, Browsers: []string{Chrome, Chromium, Edge, Brave},
		Path:    filepath.Join(ExamplesDir, "chromium-policy-self-hosted.json"),
		Content: SelfHostedPolicy(x.Development.ChromiumID, "https://extensions.example.vn/kyso/kyso-chromium-updates.xml"), Mode: 0o644})
	if ff := FirefoxPolicy(x); ff != nil {
		items = append(items, Item{Kind: KindFile, Purpose: PurposeExtension, Browsers: []string{Firefox},
			Path: filepath.Join(ExamplesDir, "firefox-policies.json"), Content: ff, Mode: 0o644})
	}
	return items
}
