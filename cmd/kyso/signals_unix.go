//go:build linux || darwin

package main

import (
	"os"
	"syscall"
)

// shutdownSignals stop the agent gracefully: Ctrl+C in a terminal, SIGTERM
// from systemd --user or launchd, SIGHUP when the terminal goes away.
var shutdownSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}
