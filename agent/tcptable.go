package agent

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// The Windows socket owner checks read the tables GetExtendedTcpTable
// fills (iphlpapi, TCP_TABLE_OWNER_PID_*). Their layout is decoded here,
// without build tags, so that the parsing and the SID comparison are
// tested on every OS with tables recorded from a real GetExtendedTcpTable
// (testdata/tcptable_*.bin, see tcptable_test.go).

// Windows' MIB_TCP_STATE values that matter here.
const (
	mibTCPListen = 2
	mibTCPEstab  = 5
)

// tcpRow is one MIB_TCPROW_OWNER_PID or MIB_TCP6ROW_OWNER_PID.
type tcpRow struct {
	local, remote netip.AddrPort
	state         uint32
	pid           uint32
}

// Row sizes: MIB_TCPROW_OWNER_PID is six DWORDs (state, local address,
// local port, remote address, remote port, pid); MIB_TCP6ROW_OWNER_PID is
// ucLocalAddr[16], dwLocalScopeId, dwLocalPort, ucRemoteAddr[16],
// dwRemoteScopeId, dwRemotePort, dwState, dwOwningPid. A table is a DWORD
// count followed by the rows. Addresses are in network order; a port is
// the low 16 bits of its DWORD, in network order.
const (
	tcpRow4Len = 24
	tcpRow6Len = 56
)

// parseTCPTable decodes a MIB_TCPTABLE_OWNER_PID (v6 false) or
// MIB_TCP6TABLE_OWNER_PID (v6 true).
func parseTCPTable(b []byte, v6 bool) ([]tcpRow, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("agent: TCP table of %d bytes", len(b))
	}
	n := int(binary.LittleEndian.Uint32(b))
	size := tcpRow4Len
	if v6 {
		size = tcpRow6Len
	}
	if n < 0 || n > (len(b)-4)/size {
		return nil, fmt.Errorf("agent: TCP table says %d rows in %d bytes", n, len(b))
	}
	rows := make([]tcpRow, n)
	port := func(d []byte) uint16 { return binary.BigEndian.Uint16(d[:2]) }
	le := binary.LittleEndian
	for i := range rows {
		r := b[4+i*size : 4+(i+1)*size]
		if !v6 {
			rows[i] = tcpRow{
				state:  le.Uint32(r[0:]),
				local:  netip.AddrPortFrom(netip.AddrFrom4([4]byte(r[4:8])), port(r[8:])),
				remote: netip.AddrPortFrom(netip.AddrFrom4([4]byte(r[12:16])), port(r[16:])),
				pid:    le.Uint32(r[20:]),
			}
			continue
		}
		rows[i] = tcpRow{
			local:  netip.AddrPortFrom(netip.AddrFrom16([16]byte(r[0:16])).Unmap(), port(r[20:])),
			remote: netip.AddrPortFrom(netip.AddrFrom16([16]byte(r[24:40])).Unmap(), port(r[44:])),
			state:  le.Uint32(r[48:]),
			pid:    le.Uint32(r[52:]),
		}
	}
	return rows, nil
}

// connPID finds the process owning the connection whose local end is
// local and remote end is remote (the client's socket, seen from the
// agent: local = the peer's address, remote = ours).
func connPID(rows []tcpRow, local, remote netip.AddrPort) (uint32, bool) {
	for _, r := range rows {
		if r.local == local && r.remote == remote {
			return r.pid, true
		}
	}
	return 0, false
}

// listenRows are the listening rows on port that take loopback connections.
func listenRows(rows []tcpRow, port uint16) []tcpRow {
	var out []tcpRow
	for _, r := range rows {
		if r.state == mibTCPListen && r.local.Port() == port && listensForLoopback(r.local.String()) {
			out = append(out, r)
		}
	}
	return out
}

// sidLen is the length of the binary SID at the start of b (revision 1,
// sub-authority count, 6-byte authority, 4 bytes per sub-authority), or 0
// when b does not hold one.
func sidLen(b []byte) int {
	if len(b) < 8 || b[0] != 1 || b[1] > 15 {
		return 0
	}
	n := 8 + 4*int(b[1])
	if len(b) < n {
		return 0
	}
	return n
}

// sameSID reports whether two binary SIDs are the same account, as
// EqualSid does: the same bytes over the SID's own length. Anything that
// is not a valid SID is never the same.
func sameSID(a, b []byte) bool {
	la, lb := sidLen(a), sidLen(b)
	return la != 0 && la == lb && bytes.Equal(a[:la], b[:lb])
}

// sidString renders a binary SID as S-1-5-21-…, for logs.
func sidString(b []byte) string {
	n := sidLen(b)
	if n == 0 {
		return "invalid SID"
	}
	var auth uint64
	for _, x := range b[2:8] {
		auth = auth<<8 | uint64(x)
	}
	var s strings.Builder
	s.WriteString("S-1-" + strconv.FormatUint(auth, 10))
	for i := 8; i < n; i += 4 {
		s.WriteString("-" + strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[i:])), 10))
	}
	return s.String()
}
