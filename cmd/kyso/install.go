package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"kyso.vn/kyso/agent"
	"kyso.vn/kyso/engine"
	"kyso.vn/kyso/installer"
	"kyso.vn/kyso/messages"
)

func init() {
	register(command{name: "install", usage: messages.HelpInstall, more: messages.InstallMore,
		run: func(args []string) error { return runInstall("install", args) }})
	register(command{name: "uninstall", usage: messages.HelpUninstall,
		run: func(args []string) error { return runInstall("uninstall", args) }})
}

// scopeFlags are the flags install, uninstall, status and doctor share.
// --root is hidden: it only relocates every file written or read under DIR
// (tests and package staging); it grants nothing.
type scopeFlags struct {
	name                 string
	config, root, bin    *string
	system, manifestOnly *bool
}

func addScopeFlags(f *cmdFlags) *scopeFlags {
	s := &scopeFlags{name: f.name, config: new(string), root: new(string), manifestOnly: new(bool)}
	if f.name == "status" || f.name == "doctor" {
		s.config = f.stringFlag("config", messages.ArgFile, messages.FlagConfig)
	}
	s.system = f.boolFlag("system", messages.FlagSystem)
	f.StringVar(s.root, "root", "", "")
	s.bin = f.stringFlag("bin", messages.ArgProgram, messages.FlagBin)
	if f.name == "install" {
		s.manifestOnly = f.boolFlag("manifests-only", messages.FlagManifestsOnly)
	}
	f.hidden = append(f.hidden, "root")
	if f.name == "uninstall" {
		f.hidden = append(f.hidden, "bin")
	}
	return s
}

// options turns the parsed flags into installer.Options.
func (s *scopeFlags) options() (installer.Options, error) {
	o := installer.Options{System: *s.system, Root: *s.root, Binary: *s.bin, Version: engine.Version, ManifestsOnly: *s.manifestOnly}
	if *s.root != "" {
		abs, err := filepath.Abs(*s.root)
		if err != nil {
			return o, err
		}
		o.Root = abs
	}
	if o.Binary == "" {
		self, err := os.Executable()
		if err != nil {
			return o, fmt.Errorf("locating this program: %w", err)
		}
		if r, err := filepath.EvalSymlinks(self); err == nil {
			self = r
		}
		o.Binary = self
	}
	if !filepath.IsAbs(o.Binary) {
		return o, &exitError{code: 2, msg: say(messages.HelpBinNotAbs, o.Binary)}
	}
	if o.Root == "" {
		o.Runner = execRunner{}
	}
	// The system policy's extensionIds go into the host manifests (and
	// doctor checks that they are there). A broken policy adds none: the
	// install goes on with Kyso's own ids and doctor names the fault.
	ids, err := engine.SystemExtensionIDs(o.Real(engine.SystemPolicyPath()))
	if err != nil && s.name == "install" {
		fmt.Fprintln(os.Stderr, say(messages.InstallWarning, err.Error()))
	}
	o.ExtensionIDs = ids
	return o, nil
}

// installFlags parses a command made of the scope flags only.
func installFlags(name string, args []string) (installer.Options, string, error) {
	f := newFlags(name, messages.Text{})
	s := addScopeFlags(f)
	words, err := f.parse(args)
	if err != nil {
		return installer.Options{}, "", err
	}
	if err := noWords(words); err != nil {
		return installer.Options{}, "", err
	}
	o, err := s.options()
	return o, *s.config, err
}

func runInstall(name string, args []string) error {
	o, _, err := installFlags(name, args)
	if err != nil {
		return err
	}
	if o.ManifestsOnly {
		// The packages' post-install step, and an admin's after changing
		// extensionIds: the installed manifests get the ids of now.
		done, err := installer.RefreshManifests(o)
		for _, it := range done {
			fmt.Println("  " + describeItem(it))
		}
		return err
	}
	var rec installer.Record
	var warns []error
	if name == "install" {
		rec, warns, err = installer.Install(o)
	} else {
		rec, warns, err = installer.Uninstall(o)
		if errors.Is(err, installer.ErrNotInstalled) {
			fmt.Println(say(messages.UninstallNotInstalled))
			stopAgent(o)
			return nil
		}
	}
	if err != nil {
		if errors.Is(err, installer.ErrUntrusted) {
			return errors.New(say(messages.InstallUntrusted, err))
		}
		if errors.Is(err, os.ErrPermission) && o.System {
			return fmt.Errorf("%w\n%s", err, say(messages.InstallNeedRoot))
		}
		return err
	}
	for _, it := range rec.Items {
		fmt.Println("  " + describeItem(it))
	}
	for _, w := range warns {
		fmt.Fprintln(os.Stderr, say(messages.InstallWarning, w.Error()))
	}
	if name == "install" {
		fmt.Println(say(messages.InstallDone))
	} else {
		stopAgent(o)
		fmt.Println(say(messages.UninstallDone))
	}
	return nil
}

func describeItem(it installer.Item) string {
	switch it.Kind {
	case installer.KindRegistry:
		n := it.Name
		if n == "" {
			n = "(default)"
		}
		return fmt.Sprintf(`%s\%s [%s] = %s`, it.Hive, it.Key, n, it.Value)
	case installer.KindSymlink:
		return it.Path + " -> " + it.Target
	}
	return it.Path
}

// stopAgent ends the agent this user runs, after uninstall removed its
// autostart: systemctl stops the one systemd started, but an agent started
// otherwise (Windows' Run key, the XDG autostart fallback, by hand) would
// keep running the removed program. It asks over the user-only local socket
// (agent.Quit) and waits until the agent has closed it. Never under --root
// (tests).
func stopAgent(o installer.Options) {
	if o.Root != "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	switch err := agent.Quit(ctx); {
	case err == nil:
		fmt.Println("  " + say(messages.UninstallAgentStopped))
	case !errors.Is(err, agent.ErrNotRunning):
		fmt.Fprintln(os.Stderr, say(messages.InstallWarning, err.Error()))
	}
}

// execRunner runs the service manager for real, with a time limit so a hung
// systemctl or launchctl never hangs the install.
type execRunner struct{}

func (execRunner) Run(name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil && len(out) > 0 {
		return fmt.Errorf("%w: %s", err, firstLine(out))
	}
	return err
}

func (execRunner) Start(name string, args ...string) error {
	c := exec.Command(name, args...)
	if err := c.Start(); err != nil {
		return err
	}
	return c.Process.Release()
}

func firstLine(b []byte) string {
	for i, c := range b {
		if c == '\n' {
			return string(b[:i])
		}
	}
	return string(b)
}
