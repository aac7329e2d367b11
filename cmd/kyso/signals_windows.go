package main

import (
	"os"
	"syscall"
)

// shutdownSignals stop the agent gracefully: Go delivers Ctrl+C/Ctrl+Break
// as os.Interrupt and the console close, logoff and shutdown events as
// SIGTERM.
var shutdownSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}
