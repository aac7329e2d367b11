package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// cmdFlags is a command's flag set, written the same way by every command:
// flags are shown as --name (Go's flag package accepts -name too), may come
// before or after the command's words, and "--" ends them. -h and --help
// print the command's help on stdout and exit 0; a wrong flag prints the
// error and the help on stderr and exits 2.
type cmdFlags struct {
	*flag.FlagSet
	name     string
	synopsis string   // what follows "kyso NAME" in the usage line
	hidden   []string // flags not shown in the help (--root)
}

func newFlags(name, synopsis string) *cmdFlags {
	fs := flag.NewFlagSet("kyso "+name, flag.ContinueOnError)
	f := &cmdFlags{FlagSet: fs, name: name, synopsis: synopsis}
	fs.SetOutput(io.Discard) // parse reports errors itself
	fs.Usage = func() {}
	return f
}

// help writes the command's help: usage line, what it does, its flags.
func (f *cmdFlags) help(w io.Writer) {
	syn := f.synopsis
	if syn == "" {
		syn = "[flags]"
	}
	fmt.Fprintf(w, "%s: kyso %s %s\n\n%s\n", say("help.usage"), f.name, syn, commandSummary(f.name))
	if more := sayOptional("cmd." + f.name + ".more"); more != "" {
		fmt.Fprintf(w, "\n%s\n", more)
	}
	var lines [][2]string
	width := 0
	f.VisitAll(func(fl *flag.Flag) {
		for _, h := range f.hidden {
			if h == fl.Name {
				return
			}
		}
		value, usage := flag.UnquoteUsage(fl)
		left := "--" + fl.Name
		if value != "" {
			left += " " + strings.ToUpper(value)
		}
		if t := sayOptional("flag." + f.name + "." + fl.Name); t != "" {
			usage = t
		} else if t := sayOptional("flag." + fl.Name); t != "" {
			usage = t
		}
		width = max(width, len(left))
		lines = append(lines, [2]string{left, usage})
	})
	if len(lines) > 0 {
		fmt.Fprintf(w, "\n%s:\n", say("help.flags"))
		for _, l := range lines {
			fmt.Fprintf(w, "  %-*s  %s\n", width, l[0], l[1])
		}
	}
}

// parse parses args and returns the words (non-flag arguments) in order.
func (f *cmdFlags) parse(args []string) ([]string, error) {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "--help" || a == "-help" {
			f.help(os.Stdout)
			return nil, flag.ErrHelp
		}
	}
	var words []string
	for {
		if err := f.Parse(args); err != nil {
			fmt.Fprintf(os.Stderr, "kyso %s: %v\n\n", f.name, err)
			f.help(os.Stderr)
			return nil, &exitError{code: 2}
		}
		rest := f.Args()
		if len(rest) == 0 {
			return words, nil
		}
		// Parse stops at the first word, or after "--": everything after
		// "--" is a word.
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(words, rest...), nil
		}
		words = append(words, rest[0])
		args = rest[1:]
	}
}

// noWords refuses words for a command that takes none.
func noWords(words []string) error {
	if len(words) > 0 {
		return &exitError{code: 2, msg: say("help.unexpected", words[0])}
	}
	return nil
}

// isHelp: the command's help was asked for (already printed).
func isHelp(err error) bool { return errors.Is(err, flag.ErrHelp) }
