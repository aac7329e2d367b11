package agent

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"
)

// tcpPeerOwner tells whether the client end of a loopback TCP connection
// belongs to this user, as Linux does with the socket's uid (issue 16,
// finding 6b): GetExtendedTcpTable(TCP_TABLE_OWNER_PID_CONNECTIONS) gives
// the process owning the client socket (local address = the peer's, remote
// = ours), and that process's token gives its user SID, compared with ours.
// On a shared PC or a terminal server another user's process can reach the
// loopback port and forge an Origin header; this refuses it before the
// upgrade. A process we cannot open (another user's, a protected one) is
// not us.
func tcpPeerOwner(ours, peer netip.AddrPort) (bool, string, error) {
	ours, peer = unmap(ours), unmap(peer)
	rows, err := tcpTable(peer.Addr().Is6(), tcpTableOwnerPIDConnections)
	if err != nil {
		return false, "", err
	}
	pid, ok := connPID(rows, peer, ours)
	if !ok {
		return false, "", fmt.Errorf("agent: no socket %v→%v in the TCP table", peer, ours)
	}
	sid, err := processSID(pid)
	if err != nil {
		return false, "", fmt.Errorf("agent: the owner of the client socket (pid %d): %w", pid, err)
	}
	mine, err := ourSID()
	if err != nil {
		return false, "", err
	}
	return sameSID(sid, mine), sidString(sid), nil
}

// TCP_TABLE_CLASS values.
const (
	tcpTableOwnerPIDListener    = 3
	tcpTableOwnerPIDConnections = 4
)

var procGetExtendedTcpTable = windows.NewLazySystemDLL("iphlpapi.dll").NewProc("GetExtendedTcpTable")

// tcpTable reads one of the owner-pid TCP tables of the machine.
func tcpTable(v6 bool, class uint32) ([]tcpRow, error) {
	b, err := rawTCPTable(v6, class)
	if err != nil {
		return nil, err
	}
	return parseTCPTable(b, v6)
}

// rawTCPTable calls GetExtendedTcpTable, growing the buffer while the
// table grows between the size query and the call.
func rawTCPTable(v6 bool, class uint32) ([]byte, error) {
	af := uintptr(windows.AF_INET)
	if v6 {
		af = windows.AF_INET6
	}
	size := uint32(16 << 10)
	for try := 0; try < 8; try++ {
		buf := make([]byte, size)
		r, _, _ := procGetExtendedTcpTable.Call(uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&size)),
			0, af, uintptr(class), 0)
		switch windows.Errno(r) {
		case 0:
			return buf[:size], nil
		case windows.ERROR_INSUFFICIENT_BUFFER:
			size += 4 << 10
			continue
		default:
			return nil, fmt.Errorf("agent: GetExtendedTcpTable: %w", windows.Errno(r))
		}
	}
	return nil, errors.New("agent: GetExtendedTcpTable: the table keeps growing")
}

// processSID is the user SID of a process's token, in binary form.
func processSID(pid uint32) ([]byte, error) {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return nil, err
	}
	defer windows.CloseHandle(h)
	var tok windows.Token
	if err := windows.OpenProcessToken(h, windows.TOKEN_QUERY, &tok); err != nil {
		return nil, err
	}
	defer tok.Close()
	return tokenSID(tok)
}

func tokenSID(tok windows.Token) ([]byte, error) {
	u, err := tok.GetTokenUser()
	if err != nil {
		return nil, err
	}
	n := windows.GetLengthSid(u.User.Sid)
	return append([]byte(nil), unsafe.Slice((*byte)(unsafe.Pointer(u.User.Sid)), n)...), nil
}

var (
	ourSIDOnce sync.Once
	ourSIDVal  []byte
	ourSIDErr  error
)

// ourSID is this process's user SID (read once).
func ourSID() ([]byte, error) {
	ourSIDOnce.Do(func() { ourSIDVal, ourSIDErr = tokenSID(windows.GetCurrentProcessToken()) })
	return ourSIDVal, ourSIDErr
}
