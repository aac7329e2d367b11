package main

import (
	"errors"

	"golang.org/x/sys/unix"
)

// noCoreDumps keeps the PIN out of core dumps and out of another process's
// reach (issue 16, finding 7). The agent and the host hold a PIN for a
// moment (the dialog's answer, the login call, a CKA_ALWAYS_AUTHENTICATE
// key's copy), and a crash in a vendor's PKCS#11 module is a real event.
//   - RLIMIT_CORE 0: no core file, for this process and the dialogs it starts.
//   - PR_SET_DUMPABLE 0: no core even where core_pattern pipes it
//     (systemd-coredump; unless suid_dumpable is 2, then root-only), and
//     the kernel refuses /proc/PID/mem, environ and ptrace to other
//     processes of the same user that lack CAP_SYS_PTRACE (their files in
//     /proc/PID become root's). A process running as the user can still
//     replace the binary or script the desktop (SECURITY.md), but it can no
//     longer read the PIN out of a running agent.
func noCoreDumps() error {
	return errors.Join(
		unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}),
		unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0),
	)
}
