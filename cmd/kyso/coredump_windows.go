package main

// noCoreDumps does nothing on Windows (issue 16, finding 7; docs/dialogs.md
// "The PIN"): Windows has no core dumps. Windows Error Reporting writes a
// dump only when an administrator configured LocalDumps, and the Go runtime
// handles a crash itself (it prints the fault and exits, with the WER
// dialog off) unless GOTRACEBACK=wer; a fail-fast inside a vendor DLL can
// still reach WER. WerAddExcludedApplication would write a lasting registry
// value at every start and does not govern LocalDumps, so Kyso does not call
// it. Another process of the same user can read the agent's memory
// (OpenProcess with PROCESS_VM_READ): the account is the boundary there.
func noCoreDumps() error { return nil }
