package agent

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/windows"
)

// portHolders on Windows: GetExtendedTcpTable(TCP_TABLE_OWNER_PID_LISTENER)
// gives the listening sockets and their process ids; the program comes
// from QueryFullProcessImageName and the owner from the process token's
// user SID (the account name when it resolves). Another user's process may
// refuse to be opened: it is then named by pid only.
func portHolders(port int) ([]PortHolder, error) {
	var out []PortHolder
	var errs []error
	mine, _ := ourSID()
	for _, v6 := range []bool{false, true} {
		rows, err := tcpTable(v6, tcpTableOwnerPIDListener)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, r := range listenRows(rows, uint16(port)) {
			h := PortHolder{Addr: r.local.String(), PID: int(r.pid)}
			h.Exe = processImage(r.pid)
			if sid, err := processSID(r.pid); err == nil {
				h.Us = sameSID(sid, mine)
				h.User = accountName(sid)
			}
			out = append(out, h)
		}
	}
	if len(out) == 0 && len(errs) == 2 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// processImage is the full path of a process's program, "" when it cannot
// be opened.
func processImage(pid uint32) string {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return ""
	}
	defer windows.CloseHandle(h)
	buf := make([]uint16, windows.MAX_LONG_PATH)
	n := uint32(len(buf))
	if err := windows.QueryFullProcessImageName(h, 0, &buf[0], &n); err != nil {
		return ""
	}
	return windows.UTF16ToString(buf[:n])
}

// accountName is DOMAIN\user for a binary SID, else the SID's text.
func accountName(sid []byte) string {
	if sidLen(sid) != 0 {
		s := (*windows.SID)(unsafe.Pointer(&sid[0]))
		if acc, dom, _, err := s.LookupAccount(""); err == nil {
			if dom != "" {
				return dom + `\` + acc
			}
			return acc
		}
	}
	return sidString(sid)
}
