// Command kyso is the Kyso signing agent: a per-user background service
// serving a loopback WebSocket and a native-messaging host for the Kyso
// browser extension. Each subcommand lives in its own file and registers
// itself in init; this file only dispatches.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"kyso.vn/kyso/messages"
)

type command struct {
	name  string
	usage messages.Text // one line for --help
	run   func(args []string) error
}

var commands = map[string]command{}

func register(c command) { commands[c.name] = c }

// exitError carries an exit code without printing more than its message.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func usage(w io.Writer) {
	fmt.Fprintln(w, say(messages.HelpIntro))
	fmt.Fprintln(w, "\n"+say(messages.HelpUsage))
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, say(commands[n].usage))
	}
	fmt.Fprintln(w, "\n"+say(messages.HelpMore))
}

func main() {
	args := os.Args[1:]
	// Browsers start the native-messaging host with the caller's origin
	// (Chromium family: chrome-extension://id/) or the manifest path and the
	// extension id (Firefox) as arguments, never with a subcommand.
	if len(args) > 0 && isBrowserLaunch(args[0]) {
		args = append([]string{"host"}, args...)
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(os.Stdout)
		return
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "kyso: unknown command %q\n\n", args[0])
		usage(os.Stderr)
		os.Exit(2)
	}
	if err := c.run(args[1:]); err != nil {
		if err == flag.ErrHelp {
			return
		}
		code := 1
		if e, ok := err.(*exitError); ok {
			code = e.code
		}
		if err.Error() != "" {
			fmt.Fprintf(os.Stderr, "kyso %s: %v\n", c.name, err)
		}
		os.Exit(code)
	}
}

func isBrowserLaunch(a string) bool {
	return strings.HasPrefix(a, "chrome-extension://") ||
		strings.HasSuffix(a, ".json") && !strings.HasPrefix(a, "-")
}
