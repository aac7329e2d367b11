package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"kyso.vn/kyso/engine"
	"kyso.vn/kyso/installer"
	"kyso.vn/kyso/messages"
)

func init() {
	register(command{name: "install", usage: messages.HelpInstall,
		run: func(args []string) error { return runInstall("install", args) }})
	register(command{name: "uninstall", usage: messages.HelpUninstall,
		run: func(args []string) error { return runInstall("uninstall", args) }})
}

// installFlags parses the flags install, uninstall, status and doctor share.
// --root is hidden: it only relocates every file written or read under DIR
// (tests and package staging); it grants nothing.
func installFlags(name string, args []string) (installer.Options, string, error) {
	fs := flag.NewFlagSet("kyso "+name, flag.ContinueOnError)
	config := new(string)
	if name == "status" || name == "doctor" {
		config = fs.String("config", "", say(messages.FlagConfig))
	}
	system := fs.Bool("system", false, say(messages.FlagSystem))
	root := fs.String("root", "", "")
	bin := fs.String("bin", "", say(messages.FlagBin))
	manifestsOnly := new(bool)
	if name == "install" {
		manifestsOnly = fs.Bool("manifests-only", false, say(messages.FlagManifestsOnly))
	}
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), say(messages.InstallUsage, name))
		fs.VisitAll(func(f *flag.Flag) {
			if f.Name != "root" && (f.Name != "bin" || name != "uninstall") {
				fmt.Fprintf(fs.Output(), "  --%s\t%s\n", f.Name, f.Usage)
			}
		})
	}
	if err := fs.Parse(args); err != nil {
		return installer.Options{}, "", err
	}
	if fs.NArg() > 0 {
		return installer.Options{}, "", &exitError{code: 2, msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	o := installer.Options{System: *system, Root: *root, Binary: *bin, Version: engine.Version, ManifestsOnly: *manifestsOnly}
	if *root != "" {
		abs, err := filepath.Abs(*root)
		if err != nil {
			return o, "", err
		}
		o.Root = abs
	}
	if o.Binary == "" {
		self, err := os.Executable()
		if err != nil {
			return o, "", fmt.Errorf("locating this program: %w", err)
		}
		if r, err := filepath.EvalSymlinks(self); err == nil {
			self = r
		}
		o.Binary = self
	}
	if !filepath.IsAbs(o.Binary) {
		return o, "", &exitError{code: 2, msg: fmt.Sprintf("--bin %q is not an absolute path", o.Binary)}
	}
	if o.Root == "" {
		o.Runner = execRunner{}
	}
	// The system policy's extensionIds go into the host manifests (and
	// doctor checks that they are there). A broken policy adds none: the
	// install goes on with Kyso's own ids and doctor names the fault.
	ids, err := engine.SystemExtensionIDs(o.Real(engine.SystemPolicyPath()))
	if err != nil && name == "install" {
		fmt.Fprintln(os.Stderr, say(messages.InstallWarning, err.Error()))
	}
	o.ExtensionIDs = ids
	return o, *config, nil
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
			return nil
		}
	}
	if err != nil {
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
