package testenv

import "testing"

// FreePort is a loopback TCP port nothing listens on now, for a program the
// test starts (the Wine test's agent, the demo script's portal).
func FreePort(t testing.TB) int { return freePort(t) }
