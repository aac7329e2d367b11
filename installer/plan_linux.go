package installer

import (
	"fmt"
	"path/filepath"
	"strings"
	"unicode"
)

// Unit is the systemd user unit's file name.
const Unit = "kyso.service"

// The agent shows dialogs, so it needs the graphical session's DISPLAY or
// WAYLAND_DISPLAY. The unit is therefore wanted by graphical-session.target,
// which GNOME, KDE and other systemd-managed sessions start after importing
// their environment into the user manager. Desktops that never reach that
// target (XFCE, MATE, …) run the XDG autostart entry below instead, which
// imports the variables itself and starts the same unit, or runs the agent
// directly when there is no systemd user manager. Starting a unit that
// already runs does nothing, so both paths together start one agent.
//
// Restart=on-failure brings the agent back 2 s after a crash (a signal, or
// Go's exit status 2 after a PKCS#11 module aborts or segfaults in C code);
// the crash journal (docs/tokens.md) then skips a module that crashed it
// twice in a row, so this never loops on a bad driver. StartLimit: five
// starts within a minute at most, then systemd gives up rather than spin on
// a broken install. Exit status 3 means another agent already serves this
// user: nothing to restart.
const unitTmpl = `[Unit]
Description=Kyso signing agent (ký số)
Documentation=https://kyso.vn
PartOf=graphical-session.target
After=graphical-session.target
StartLimitIntervalSec=60
StartLimitBurst=5

[Service]
Type=simple
ExecStart=%s
Restart=on-failure
RestartSec=2
RestartPreventExitStatus=3

[Install]
WantedBy=graphical-session.target
`

// The XDG entry's command is a fixed sh script that gets the program's path
// as $0, so the path never becomes part of a script: it is one argument of
// Exec, quoted by desktopArg.
const desktopTmpl = `[Desktop Entry]
Type=Application
Name=Kyso
Comment=Kyso signing agent (ký số)
Exec=/bin/sh -c %s %s
NoDisplay=true
X-GNOME-Autostart-enabled=true
`

// desktopScript is the fallback: hand DISPLAY & co. to systemd --user and
// start the unit, or, with no user manager, run the program ($0) itself.
const desktopScript = `systemctl --user import-environment DISPLAY WAYLAND_DISPLAY XAUTHORITY && systemctl --user start kyso.service || exec "$0" serve`

// Unit and desktop file contents, exported for packaging and tests.
func UnitFile(bin string) []byte { return []byte(fmt.Sprintf(unitTmpl, unitExec(bin))) }
func DesktopFile(bin string) []byte {
	return []byte(fmt.Sprintf(desktopTmpl, desktopArg(desktopScript), desktopArg(bin)))
}

// unitExec is the unit's ExecStart command (systemd.service(5), "Command
// lines"). systemd refuses a program path with a quote, a backslash or a
// control character ("Executable name contains special characters"), though
// an argument may hold any of them: such a path is handed to /bin/sh as $0.
func unitExec(bin string) string {
	if strings.ContainsAny(bin, "\"'\\") || strings.IndexFunc(bin, unicode.IsControl) >= 0 {
		return `/bin/sh -c "exec \"$$0\" serve" ` + systemdQuote(bin, true)
	}
	return systemdQuote(bin, false) + " serve"
}

// systemdQuote quotes one word of an Exec line: in double quotes (when
// needed) with C escapes for backslash, quote and control characters, "%"
// doubled (a specifier otherwise, systemd.unit(5)), and in an argument "$"
// doubled (a variable otherwise); the program's path is not expanded, so
// its "$" stays single (systemd-analyze verify finds the program; the test
// checks it).
func systemdQuote(p string, arg bool) string {
	if p != "" && !strings.ContainsAny(p, " \t\n\r\"'\\%$;") && strings.IndexFunc(p, unicode.IsControl) < 0 {
		return p
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range p {
		switch {
		case r == '\\' || r == '"':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '%':
			b.WriteString("%%")
		case r == '$' && arg:
			b.WriteString("$$")
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case unicode.IsControl(r) && r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// desktopArg quotes one argument of a Desktop Entry Exec key (Desktop Entry
// Specification 1.5, "The Exec key"): always in double quotes, with '"',
// '`', '$' and '\' escaped by a backslash; '%' doubled (a field code
// otherwise); then the string-value escapes applied over that (a backslash
// doubled again, newline, tab and carriage return as \n, \t, \r), because
// the reader undoes those first. So a literal backslash is four in the file,
// and '$' is written "\\$", as the specification's examples say.
func desktopArg(s string) string {
	var q strings.Builder
	q.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '`', '$', '\\':
			q.WriteByte('\\')
		case '%':
			q.WriteByte('%')
		}
		q.WriteRune(r)
	}
	q.WriteByte('"')
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\t", `\t`, "\r", `\r`).Replace(q.String())
}

func manifestDirs(o Options) (map[string][]string, error) {
	if o.System {
		return map[string][]string{
			Chrome:   {"/etc/opt/chrome/native-messaging-hosts"},
			Chromium: {"/etc/chromium/native-messaging-hosts"},
			Edge:     {"/etc/opt/edge/native-messaging-hosts"},
			// Brave reads Chrome's system folder (it has none of its own).
			Brave:   {"/etc/opt/chrome/native-messaging-hosts"},
			Firefox: {"/usr/lib/mozilla/native-messaging-hosts", "/usr/lib64/mozilla/native-messaging-hosts"},
		}, nil
	}
	h, err := o.home()
	if err != nil {
		return nil, err
	}
	c := filepath.Join(h, ".config")
	return map[string][]string{
		Chrome:   {filepath.Join(c, "google-chrome", "NativeMessagingHosts")},
		Chromium: {filepath.Join(c, "chromium", "NativeMessagingHosts")},
		Edge:     {filepath.Join(c, "microsoft-edge", "NativeMessagingHosts")},
		Brave:    {filepath.Join(c, "BraveSoftware", "Brave-Browser", "NativeMessagingHosts")},
		Firefox:  {filepath.Join(h, ".mozilla", "native-messaging-hosts")},
	}, nil
}

// unitDirs: where the unit goes and where its enabling link goes.
func unitDir(o Options) (string, error) {
	if o.System && o.Package {
		return "/usr/lib/systemd/user", nil
	}
	return o.path("/etc/systemd/user", ".config", "systemd", "user")
}

func enableDir(o Options) (string, error) {
	if o.System {
		// What `systemctl --global enable` writes.
		return "/etc/systemd/user/graphical-session.target.wants", nil
	}
	d, err := unitDir(o)
	return filepath.Join(d, "graphical-session.target.wants"), err
}

func autostartDir(o Options) (string, error) {
	return o.path("/etc/xdg/autostart", ".config", "autostart")
}

func plan(o Options) ([]Item, error) {
	items, err := dirManifests(o)
	if err != nil {
		return nil, err
	}
	ud, err := unitDir(o)
	if err != nil {
		return nil, err
	}
	ed, err := enableDir(o)
	if err != nil {
		return nil, err
	}
	ad, err := autostartDir(o)
	if err != nil {
		return nil, err
	}
	unit := filepath.Join(ud, Unit)
	items = append(items,
		Item{Kind: KindFile, Purpose: PurposeAutostart, Path: unit, Content: UnitFile(o.Binary), Mode: 0o644},
		Item{Kind: KindSymlink, Purpose: PurposeAutostart, Path: filepath.Join(ed, Unit), Target: unit},
		Item{Kind: KindFile, Purpose: PurposeAutostart, Path: filepath.Join(ad, "kyso.desktop"), Content: DesktopFile(o.Binary), Mode: 0o644},
	)
	return append(items, preregItems(o)...), nil
}

func recordPath(o Options) (string, error) {
	return o.path("/var/lib/kyso/install.json", ".local", "share", "kyso", "install.json")
}

// afterInstall (re)starts the agent in the current user's session. For
// --system the unit starts at each user's next login; nothing to run now.
func afterInstall(o Options, r Runner) []error {
	if o.System {
		return nil
	}
	var errs []error
	for _, args := range [][]string{
		{"--user", "daemon-reload"},
		{"--user", "import-environment", "DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY"},
		{"--user", "restart", Unit},
	} {
		if err := r.Run("systemctl", args...); err != nil {
			errs = append(errs, fmt.Errorf("systemctl %s: %w (the agent starts at your next login)", strings.Join(args, " "), err))
			break
		}
	}
	return errs
}

func beforeUninstall(o Options, r Runner) []error {
	if o.System {
		return nil
	}
	if err := r.Run("systemctl", "--user", "stop", Unit); err != nil {
		return []error{fmt.Errorf("systemctl --user stop %s: %w", Unit, err)}
	}
	return nil
}

func afterUninstall(o Options, r Runner) []error {
	if o.System {
		return nil
	}
	if err := r.Run("systemctl", "--user", "daemon-reload"); err != nil {
		return []error{fmt.Errorf("systemctl --user daemon-reload: %w", err)}
	}
	return nil
}
