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
)

func init() {
	register(command{name: "install", run: func(args []string) error { return runInstall("install", args) }})
	register(command{name: "uninstall", run: func(args []string) error { return runInstall("uninstall", args) }})
}

// scopeFlags are the flags install, uninstall, status and doctor share.
// --root is hidden: it only relocates every file written or read under DIR
// (tests and package staging); it grants nothing.
type scopeFlags struct {
	config, root, bin *string
	system            *bool
}

func addScopeFlags(f *cmdFlags) *scopeFlags {
	s := &scopeFlags{config: new(string), root: new(string)}
	if f.name == "status" || f.name == "doctor" {
		s.config = f.String("config", "", "the user config `file`")
	}
	s.system = f.Bool("system", false, "for all users of this computer")
	f.StringVar(s.root, "root", "", "")
	s.bin = f.String("bin", "", "the kyso `program` browsers and the login start run")
	f.hidden = append(f.hidden, "root")
	if f.name == "uninstall" {
		f.hidden = append(f.hidden, "bin")
	}
	return s
}

// options turns the parsed flags into installer.Options.
func (s *scopeFlags) options() (installer.Options, error) {
	o := installer.Options{System: *s.system, Root: *s.root, Binary: *s.bin, Version: engine.Version}
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
		return o, &exitError{code: 2, msg: say("help.binNotAbs", o.Binary)}
	}
	if o.Root == "" {
		o.Runner = execRunner{}
	}
	return o, nil
}

// installFlags parses a command made of the scope flags only.
func installFlags(name string, args []string) (installer.Options, string, error) {
	f := newFlags(name, "")
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
	var rec installer.Record
	var warns []error
	if name == "install" {
		rec, warns, err = installer.Install(o)
	} else {
		rec, warns, err = installer.Uninstall(o)
		if errors.Is(err, installer.ErrNotInstalled) {
			fmt.Println(say("uninstall.notInstalled"))
			stopAgent(o)
			return nil
		}
	}
	if err != nil {
		if errors.Is(err, installer.ErrUntrusted) {
			return errors.New(say("install.untrusted", err))
		}
		if errors.Is(err, os.ErrPermission) && o.System {
			return fmt.Errorf("%w\n%s", err, say("install.needRoot"))
		}
		return err
	}
	for _, it := range rec.Items {
		fmt.Println("  " + describeItem(it))
	}
	for _, w := range warns {
		fmt.Fprintln(os.Stderr, say("install.warning", w.Error()))
	}
	if name == "install" {
		fmt.Println(say("install.done"))
	} else {
		stopAgent(o)
		fmt.Println(say("uninstall.done"))
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
// and waits until the agent has closed it. Never under --root (tests).
func stopAgent(o installer.Options) {
	if o.Root != "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	switch err := agent.Quit(ctx); {
	case err == nil:
		fmt.Println("  " + say("uninstall.agentStopped"))
	case !errors.Is(err, agent.ErrNotRunning):
		fmt.Fprintln(os.Stderr, say("install.warning", err.Error()))
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
