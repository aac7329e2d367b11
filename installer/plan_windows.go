package installer

import (
	"fmt"
	"os"
	"path/filepath"
)

// Registry keys under HKCU (per user) or HKLM (--system) whose default value
// is the manifest's path: that is how browsers find hosts on Windows.
var registryKeys = map[string]string{
	Chrome:   `Software\Google\Chrome\NativeMessagingHosts\vn.kyso.signer`,
	Chromium: `Software\Chromium\NativeMessagingHosts\vn.kyso.signer`,
	Edge:     `Software\Microsoft\Edge\NativeMessagingHosts\vn.kyso.signer`,
	Brave:    `Software\BraveSoftware\Brave-Browser\NativeMessagingHosts\vn.kyso.signer`,
	Firefox:  `Software\Mozilla\NativeMessagingHosts\vn.kyso.signer`,
}

// RunKey holds the logon start. The agent is a per-user program started at
// logon, never a Windows service: services run in session 0, which cannot
// show the approval and PIN dialogs.
const (
	RunKey   = `Software\Microsoft\Windows\CurrentVersion\Run`
	RunValue = "Kyso"
)

func hive(o Options) string {
	if o.System {
		return "HKLM"
	}
	return "HKCU"
}

// dataDir holds the manifests: %LOCALAPPDATA%\Kyso per user, %ProgramFiles%\Kyso for all.
func dataDir(o Options) (string, error) {
	if o.System {
		pf := os.Getenv("ProgramFiles")
		if pf == "" {
			pf = `C:\Program Files`
		}
		return filepath.Join(pf, "Kyso"), nil
	}
	if o.Home == "" {
		if la := os.Getenv("LOCALAPPDATA"); la != "" {
			return filepath.Join(la, "Kyso"), nil
		}
	}
	h, err := o.home()
	if err != nil {
		return "", err
	}
	return filepath.Join(h, "AppData", "Local", "Kyso"), nil
}

func plan(o Options) ([]Item, error) {
	d, err := dataDir(o)
	if err != nil {
		return nil, err
	}
	chromium := filepath.Join(d, "vn.kyso.signer.chromium.json")
	firefox := filepath.Join(d, "vn.kyso.signer.firefox.json")
	items, err := manifestItems(o, map[string][]string{Chrome: {d}})
	if err != nil {
		return nil, err
	}
	items[0].Path, items[0].Browsers = chromium, []string{Chrome, Chromium, Edge, Brave}
	ff, err := manifestItems(o, map[string][]string{Firefox: {d}})
	if err != nil {
		return nil, err
	}
	ff[0].Path = firefox
	items = append(items, ff[0])
	for _, b := range Browsers {
		m := chromium
		if b == Firefox {
			m = firefox
		}
		items = append(items, Item{Kind: KindRegistry, Purpose: PurposeRegistry, Browsers: []string{b},
			Hive: hive(o), Key: registryKeys[b], Value: m})
	}
	items = append(items, Item{Kind: KindRegistry, Purpose: PurposeAutostart, Hive: hive(o),
		Key: RunKey, Name: RunValue, Value: fmt.Sprintf(`"%s" serve`, GUIBinary(o.Binary))})
	return items, nil
}

func recordPath(o Options) (string, error) {
	d, err := dataDir(o)
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "install.json"), nil
}

// GUIBinary is the program the logon start runs: kysow.exe beside kyso.exe,
// the same program linked for the GUI subsystem (-H windowsgui), so that no
// console window opens at logon, as the MSI's Run value does.
func GUIBinary(bin string) string { return filepath.Join(filepath.Dir(bin), "kysow.exe") }

// afterInstall starts the agent now for a per-user install (logon starts it
// later); a --system install starts at each user's next logon.
func afterInstall(o Options, r Runner) []error {
	if o.System {
		return nil
	}
	gui := GUIBinary(o.Binary)
	if err := r.Start(gui, "serve"); err != nil {
		return []error{fmt.Errorf("start %s serve: %w (the agent starts at your next logon)", gui, err)}
	}
	return nil
}

func beforeUninstall(Options, Runner) []error { return nil }
func afterUninstall(Options, Runner) []error  { return nil }
