package installer

import (
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strconv"
)

// Label is the launchd label of the agent.
const Label = "vn.kyso.agent"

// The LaunchAgent runs the agent in the user's GUI session (so it can show
// dialogs), starts it at login, and restarts it when it exits with an error;
// a clean exit (kyso serve stopping on purpose) is left alone.
const plistTmpl = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>vn.kyso.agent</string>
	<key>ProgramArguments</key>
	<array>
		<string>%s</string>
		<string>serve</string>
	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>KeepAlive</key>
	<dict>
		<key>SuccessfulExit</key>
		<false/>
	</dict>
	<key>LimitLoadToSessionType</key>
	<string>Aqua</string>
	<key>ProcessType</key>
	<string>Interactive</string>
</dict>
</plist>
`

// PlistFile is the LaunchAgent plist's content.
func PlistFile(bin string) []byte { return []byte(fmt.Sprintf(plistTmpl, html.EscapeString(bin))) }

func manifestDirs(o Options) (map[string][]string, error) {
	if o.System {
		return map[string][]string{
			Chrome:   {"/Library/Google/Chrome/NativeMessagingHosts"},
			Chromium: {"/Library/Application Support/Chromium/NativeMessagingHosts"},
			Edge:     {"/Library/Microsoft/Edge/NativeMessagingHosts"},
			// Brave reads Chrome's system folder.
			Brave:   {"/Library/Google/Chrome/NativeMessagingHosts"},
			Firefox: {"/Library/Application Support/Mozilla/NativeMessagingHosts"},
		}, nil
	}
	h, err := o.home()
	if err != nil {
		return nil, err
	}
	as := filepath.Join(h, "Library", "Application Support")
	return map[string][]string{
		Chrome:   {filepath.Join(as, "Google", "Chrome", "NativeMessagingHosts")},
		Chromium: {filepath.Join(as, "Chromium", "NativeMessagingHosts")},
		Edge:     {filepath.Join(as, "Microsoft Edge", "NativeMessagingHosts")},
		Brave:    {filepath.Join(as, "BraveSoftware", "Brave-Browser", "NativeMessagingHosts")},
		Firefox:  {filepath.Join(as, "Mozilla", "NativeMessagingHosts")},
	}, nil
}

func plistPath(o Options) (string, error) {
	return o.path("/Library/LaunchAgents/"+Label+".plist", "Library", "LaunchAgents", Label+".plist")
}

func plan(o Options) ([]Item, error) {
	items, err := dirManifests(o)
	if err != nil {
		return nil, err
	}
	p, err := plistPath(o)
	if err != nil {
		return nil, err
	}
	return append(items, Item{Kind: KindFile, Purpose: PurposeAutostart, Path: p, Content: PlistFile(o.Binary), Mode: 0o644}), nil
}

func recordPath(o Options) (string, error) {
	return o.path("/Library/Application Support/Kyso/install.json", "Library", "Application Support", "Kyso", "install.json")
}

func guiDomain() string { return "gui/" + strconv.Itoa(os.Getuid()) }

// afterInstall loads the LaunchAgent into the current GUI session (a
// --system install is loaded at each user's next login).
func afterInstall(o Options, r Runner) []error {
	if o.System {
		return nil
	}
	p, err := plistPath(o)
	if err != nil {
		return []error{err}
	}
	_ = r.Run("launchctl", "bootout", guiDomain()+"/"+Label) // not loaded yet: fine
	if err := r.Run("launchctl", "bootstrap", guiDomain(), p); err != nil {
		return []error{fmt.Errorf("launchctl bootstrap: %w (the agent starts at your next login)", err)}
	}
	return nil
}

func beforeUninstall(o Options, r Runner) []error {
	if o.System {
		return nil
	}
	_ = r.Run("launchctl", "bootout", guiDomain()+"/"+Label)
	return nil
}

func afterUninstall(Options, Runner) []error { return nil }
