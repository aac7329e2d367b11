package agent

import "errors"

// portHolders is not done on macOS: without cgo the listening socket's
// owner needs either sysctl net.inet.tcp.pcblist_n (struct xsocket_n has
// so_uid and so_last_pid, an undocumented layout that changes between
// releases) or running /usr/sbin/lsof (`lsof -nP -iTCP:PORT -sTCP:LISTEN
// -Fpcu`, then `-a -p PID -d txt -Fn` for the program), which `kyso doctor`
// prints as the command to run (docs/agent.md).
func portHolders(int) ([]PortHolder, error) {
	return nil, errors.New("agent: the holder of a port is not looked up on macOS")
}
