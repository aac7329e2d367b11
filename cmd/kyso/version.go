package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"kyso.vn/kyso/engine"
	"kyso.vn/kyso/messages"
	"kyso.vn/kyso/protocol"
)

func init() {
	register(command{name: "version", usage: messages.HelpVersion, run: func(args []string) error {
		words, err := newFlags("version", messages.Text{}).parse(args)
		if err != nil {
			return err
		}
		if err := noWords(words); err != nil {
			return err
		}
		printVersion(os.Stdout)
		return nil
	}})
	engine.Version = buildVersion(engine.Version, debug.ReadBuildInfo)
}

// unstamped is engine.Version when the linker did not stamp one (go build,
// go install without the Makefile).
const unstamped = "0.0.0-dev"

// buildVersion is the release number (DESIGN "version"): the Makefile stamps
// it from git (scripts/version.sh: the tag vMAJOR.MINOR.PATCH at HEAD, else
// the last such tag or 0.0.0 plus -dev+<commit>). A plain go build gets
// 0.0.0-dev+<commit> from the VCS stamp Go puts in the binary.
func buildVersion(stamped string, info func() (*debug.BuildInfo, bool)) string {
	if stamped != unstamped {
		return stamped
	}
	bi, ok := info()
	if !ok {
		return stamped
	}
	rev, dirty := "", ""
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && len(s.Value) >= 12:
			rev = s.Value[:12]
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = ".dirty"
		}
	}
	if rev == "" {
		return stamped
	}
	return unstamped + "+" + rev + dirty
}

func printVersion(w io.Writer) {
	fmt.Fprintf(w, "kyso %s (protocol %d)\n", engine.Version, protocol.Version)
}
