package agent

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// tcpPeerOwner tells whether the client end of a loopback TCP connection
// belongs to this user, and names its owner ("uid N").
func tcpPeerOwner(ours, peer netip.AddrPort) (bool, string, error) {
	uid, err := tcpPeerUID(ours, peer)
	if err != nil {
		return false, "", err
	}
	return uid == os.Getuid(), "uid " + strconv.Itoa(uid), nil
}

// tcpPeerUID returns the uid that owns the client end of a loopback TCP
// connection: the socket whose local address is the peer's address and
// whose remote address is ours. The kernel lists every socket of the
// network namespace, with its owner, in /proc/net/tcp and tcp6; a client of
// another user on the same machine (a shared server, a terminal server)
// can reach our loopback port like any page, and send any Origin header it
// likes, so only its owner tells it apart.
//
// The kernel is asked for that one socket through netlink sock_diag
// (sockdiag_linux.go); /proc/net/tcp is read only when netlink is refused
// (a sandbox) or does not find it.
func tcpPeerUID(ours, peer netip.AddrPort) (int, error) {
	ours, peer = unmap(ours), unmap(peer)
	s, err := diagLookup(peer, ours)
	switch {
	case err == nil:
		return s.uid, nil
	case errors.Is(err, errDiagRefused), errors.Is(err, errNoSocket):
		return procTCPPeerUID(ours, peer)
	}
	return -1, err
}

// procTCPPeerUID is tcpPeerUID from /proc/net/tcp and tcp6.
func procTCPPeerUID(ours, peer netip.AddrPort) (int, error) {
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		uid, err := findTCPOwner(f, ours, peer)
		if err == nil {
			return uid, nil
		}
		if !errors.Is(err, errNoSocket) {
			return -1, err
		}
	}
	return -1, fmt.Errorf("agent: no socket %v→%v in /proc/net/tcp{,6}: %w", peer, ours, errNoSocket)
}

var errNoSocket = errors.New("socket not found")

func findTCPOwner(file string, ours, peer netip.AddrPort) (int, error) {
	f, err := os.Open(file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return -1, errNoSocket // no IPv6 in this kernel
		}
		return -1, fmt.Errorf("agent: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // the header line
	for sc.Scan() {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid …
		fields := strings.Fields(sc.Text())
		if len(fields) < 8 {
			continue
		}
		local, err1 := parseProcAddr(fields[1])
		remote, err2 := parseProcAddr(fields[2])
		if err1 != nil || err2 != nil || local != peer || remote != ours {
			continue
		}
		uid, err := strconv.Atoi(fields[7])
		if err != nil {
			return -1, fmt.Errorf("agent: %s: uid %q: %w", file, fields[7], err)
		}
		return uid, nil
	}
	if err := sc.Err(); err != nil {
		return -1, fmt.Errorf("agent: reading %s: %w", file, err)
	}
	return -1, errNoSocket
}

// parseProcAddr parses "0100007F:1F90": the address as 32-bit words, each
// printed in the kernel's byte order, then the port in hex.
func parseProcAddr(s string) (netip.AddrPort, error) {
	a, p, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("no port in %q", s)
	}
	raw, err := hex.DecodeString(a)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("bad port in %q", s)
	}
	// The file prints each word with %08X of its native-order value:
	// turn each back into its bytes in memory (network order).
	var b [16]byte
	for i := 0; i < len(raw); i += 4 {
		binary.NativeEndian.PutUint32(b[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	var addr netip.Addr
	if len(raw) == 4 {
		addr = netip.AddrFrom4([4]byte(b[:4]))
	} else {
		addr = netip.AddrFrom16(b)
	}
	return netip.AddrPortFrom(unmap(netip.AddrPortFrom(addr, 0)).Addr(), uint16(port)), nil
}
