// Command kyso is the Kyso signing agent: a per-user background service
// serving a loopback WebSocket and a native-messaging host for the Kyso
// browser extension. Each subcommand lives in its own file and registers
// itself in init; this file only dispatches. The conventions every command
// follows (help, flags, exit codes) are in docs/cli.md.
package main

import (
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
	more  messages.Text // a paragraph of the command's own help, if any
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
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	// Browsers start the native-messaging host with the caller's origin
	// (Chromium family: chrome-extension://id/) or the manifest path and the
	// extension id (Firefox) as arguments, never with a subcommand.
	if len(args) > 0 && isBrowserLaunch(args[0]) {
		args = append([]string{"host"}, args...)
	}
	if len(args) == 0 {
		usage(os.Stdout)
		return 0
	}
	switch args[0] {
	case "-h", "--help", "-help":
		usage(os.Stdout)
		return 0
	case "--version", "-version", "-V":
		printVersion(os.Stdout)
		return 0
	case "help":
		if len(args) == 1 {
			usage(os.Stdout)
			return 0
		}
		if _, ok := commands[args[1]]; !ok {
			return unknown(args[1])
		}
		args = []string{args[1], "--help"}
	}
	c, ok := commands[args[0]]
	if !ok {
		return unknown(args[0])
	}
	err := c.run(args[1:])
	if err == nil || isHelp(err) {
		return 0
	}
	code := 1
	if e, ok := err.(*exitError); ok {
		code = e.code
	}
	if err.Error() != "" {
		fmt.Fprintf(os.Stderr, "kyso %s: %v\n", c.name, err)
	}
	return code
}

func unknown(name string) int {
	fmt.Fprintf(os.Stderr, "kyso: %s\n\n", say(messages.HelpUnknown, name))
	usage(os.Stderr)
	return 2
}

func isBrowserLaunch(a string) bool {
	return strings.HasPrefix(a, "chrome-extension://") ||
		strings.HasSuffix(a, ".json") && !strings.HasPrefix(a, "-")
}
