package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"

	"kyso.vn/kyso/messages"
)

// cmdFlags is a command's flag set, written the same way by every command:
// flags are shown as --name (Go's flag package accepts -name too), may come
// before or after the command's words, and "--" ends them. -h and --help
// print the command's help on stdout and exit 0; a wrong flag prints the
// error and the help on stderr and exits 2. Every text of the help comes
// from the message table (messages.Help…, Flag…, Arg…).
type cmdFlags struct {
	*flag.FlagSet
	name     string
	synopsis messages.Text            // what follows "kyso NAME" in the usage line
	values   map[string]messages.Text // the name of a flag's value (--config FILE)
	hidden   []string                 // flags not shown in the help (--root)
}

// newFlags is the flag set of command name; a zero synopsis is
// messages.HelpAnyFlags.
func newFlags(name string, synopsis messages.Text) *cmdFlags {
	fs := flag.NewFlagSet("kyso "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse reports errors itself
	fs.Usage = func() {}
	return &cmdFlags{FlagSet: fs, name: name, synopsis: synopsis, values: map[string]messages.Text{}}
}

// stringFlag defines --name VALUE; value names it in the help.
func (f *cmdFlags) stringFlag(name string, value, text messages.Text) *string {
	f.values[name] = value
	return f.String(name, "", say(text))
}

// intFlag defines --name VALUE, a whole number (def when not given).
func (f *cmdFlags) intFlag(name string, def int, value, text messages.Text) *int {
	f.values[name] = value
	return f.Int(name, def, say(text))
}

// boolFlag defines --name.
func (f *cmdFlags) boolFlag(name string, text messages.Text) *bool {
	return f.Bool(name, false, say(text))
}

// varFlag defines --name VALUE read by v (a repeatable flag).
func (f *cmdFlags) varFlag(v flag.Value, name string, value, text messages.Text) {
	f.values[name] = value
	f.Var(v, name, say(text))
}

// help writes the command's help: usage line, what it does, its flags.
func (f *cmdFlags) help(w io.Writer) {
	syn := f.synopsis
	if syn == (messages.Text{}) {
		syn = messages.HelpAnyFlags
	}
	c := commands[f.name]
	fmt.Fprintf(w, "%s\n\n%s\n", say(messages.HelpCommandUsage, f.name, say(syn)), say(c.usage))
	if c.more != (messages.Text{}) {
		fmt.Fprintf(w, "\n%s\n", say(c.more))
	}
	var lines [][2]string
	width := 0
	f.VisitAll(func(fl *flag.Flag) {
		if slices.Contains(f.hidden, fl.Name) {
			return
		}
		left := "--" + fl.Name
		if v, ok := f.values[fl.Name]; ok {
			left += " " + say(v)
		}
		width = max(width, len([]rune(left)))
		lines = append(lines, [2]string{left, fl.Usage})
	})
	if len(lines) > 0 {
		fmt.Fprintf(w, "\n%s\n", say(messages.HelpFlags))
		for _, l := range lines {
			fmt.Fprintf(w, "  %s%*s  %s\n", l[0], width-len([]rune(l[0])), "", l[1])
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
		return &exitError{code: 2, msg: say(messages.HelpUnexpected, words[0])}
	}
	return nil
}

// isHelp: the command's help was asked for (already printed).
func isHelp(err error) bool { return errors.Is(err, flag.ErrHelp) }
