package main

import "golang.org/x/sys/unix"

// noCoreDumps keeps the PIN out of core dumps (issue 16, finding 7):
// RLIMIT_CORE 0 (macOS writes cores to /cores only when the limit allows).
// Crash reports (~/Library/Logs/DiagnosticReports) hold stacks, not memory.
// PT_DENY_ATTACH is not used: another process of the user cannot get the
// agent's task port anyway (task_for_pid needs root or the debugger
// entitlement with SIP on), and the call only blocks ptrace, which lldb
// gets around; it would also turn a debugger session into a crash.
func noCoreDumps() error {
	return unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
}
