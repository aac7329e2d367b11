package agent

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// The kernel's socket diagnostics (NETLINK_SOCK_DIAG, linux/inet_diag.h)
// answer for one exact socket: SOCK_DIAG_BY_FAMILY with the 4-tuple looks
// the socket up in the kernel's hash and returns its owner, where
// /proc/net/tcp prints every socket of the namespace and is read and
// parsed whole for each connection (issue 16, finding 6). The same request
// with NLM_F_DUMP and the LISTEN state lists the listening sockets (who
// holds the WebSocket port). x/sys/unix has the constants; the two structs
// are written out here.

// Sizes and offsets of struct inet_diag_req_v2 and inet_diag_msg.
const (
	diagReqLen = 56 // family, protocol, ext, pad, states(4), sockid(48)
	diagMsgLen = 72 // family, state, timer, retrans, sockid(48), expires, rqueue, wqueue, uid, inode
	diagReqID  = 8  // the sockid inside the request
	diagMsgID  = 4  // and inside the answer
	diagUIDOff = 64
	diagINOff  = 68

	tcpListen = 10 // TCP_LISTEN in the kernel's state numbering
)

// diagSocket is what the kernel says of one socket.
type diagSocket struct {
	local, remote netip.AddrPort
	uid           int
	inode         uint64
}

// errDiagRefused: netlink sock_diag is not available (a sandbox's seccomp
// filter, an old or emulated kernel); callers fall back to /proc.
var errDiagRefused = errors.New("agent: netlink sock_diag refused")

// diagOff is set once netlink has been refused, so that a sandbox that
// forbids it costs one failed socket() call, not one per connection.
var diagOff atomic.Bool

// diagLookup asks for the one TCP socket whose local address is local and
// whose remote address is remote.
func diagLookup(local, remote netip.AddrPort) (diagSocket, error) {
	family := uint8(unix.AF_INET)
	if local.Addr().Is6() {
		family = unix.AF_INET6
	}
	req := diagRequest(family, ^uint32(0), local, remote)
	socks, err := diagQuery(req, false)
	if err != nil {
		return diagSocket{}, err
	}
	if len(socks) == 0 {
		return diagSocket{}, errNoSocket
	}
	return socks[0], nil
}

// diagListeners lists the listening TCP sockets on port (both families).
func diagListeners(port uint16) ([]diagSocket, error) {
	var out []diagSocket
	for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		socks, err := diagQuery(diagRequest(family, 1<<tcpListen, netip.AddrPort{}, netip.AddrPort{}), true)
		if err != nil {
			return nil, err
		}
		for _, s := range socks {
			if s.local.Port() == port {
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// diagRequest encodes struct inet_diag_req_v2 for TCP. The addresses are
// in network order, as the kernel keeps them; the cookie is
// INET_DIAG_NOCOOKIE (any socket with that 4-tuple).
func diagRequest(family uint8, states uint32, local, remote netip.AddrPort) []byte {
	b := make([]byte, diagReqLen)
	b[0], b[1] = family, unix.IPPROTO_TCP
	binary.NativeEndian.PutUint32(b[4:], states)
	id := b[diagReqID:]
	binary.BigEndian.PutUint16(id[0:], local.Port())
	binary.BigEndian.PutUint16(id[2:], remote.Port())
	putDiagAddr(id[4:20], local.Addr(), family)
	putDiagAddr(id[20:36], remote.Addr(), family)
	binary.NativeEndian.PutUint32(id[40:], ^uint32(0))
	binary.NativeEndian.PutUint32(id[44:], ^uint32(0))
	return b
}

func putDiagAddr(dst []byte, a netip.Addr, family uint8) {
	if !a.IsValid() {
		return
	}
	if family == unix.AF_INET {
		a4 := a.Unmap().As4()
		copy(dst, a4[:])
		return
	}
	a16 := a.As16()
	copy(dst, a16[:])
}

// diagQuery sends one request and reads the answers until the kernel is
// done. ENOENT (no such socket) is an empty answer.
func diagQuery(req []byte, dump bool) ([]diagSocket, error) {
	if diagOff.Load() {
		return nil, errDiagRefused
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		diagOff.Store(true)
		return nil, fmt.Errorf("%w: %v", errDiagRefused, err)
	}
	defer unix.Close(fd)
	flags := uint16(unix.NLM_F_REQUEST)
	if dump {
		flags |= unix.NLM_F_DUMP
	}
	msg := make([]byte, unix.NLMSG_HDRLEN+len(req))
	binary.NativeEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.NativeEndian.PutUint16(msg[4:], unix.SOCK_DIAG_BY_FAMILY)
	binary.NativeEndian.PutUint16(msg[6:], flags)
	binary.NativeEndian.PutUint32(msg[8:], 1) // sequence
	copy(msg[unix.NLMSG_HDRLEN:], req)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			diagOff.Store(true)
		}
		return nil, fmt.Errorf("%w: %v", errDiagRefused, err)
	}
	var out []diagSocket
	buf := make([]byte, 32<<10)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return nil, fmt.Errorf("agent: sock_diag: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return nil, fmt.Errorf("agent: sock_diag: %w", err)
		}
		for _, m := range msgs {
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return out, nil
			case unix.NLMSG_ERROR:
				if len(m.Data) < 4 {
					return nil, errors.New("agent: sock_diag: short error")
				}
				errno := syscall.Errno(-int32(binary.NativeEndian.Uint32(m.Data)))
				switch errno {
				case 0:
					return out, nil
				case unix.ENOENT:
					return out, nil
				}
				return nil, fmt.Errorf("agent: sock_diag: %w", errno)
			case unix.SOCK_DIAG_BY_FAMILY:
				s, err := parseDiagMsg(m.Data)
				if err != nil {
					return nil, err
				}
				out = append(out, s)
			}
		}
		if !dump {
			return out, nil
		}
	}
}

// parseDiagMsg decodes struct inet_diag_msg.
func parseDiagMsg(b []byte) (diagSocket, error) {
	if len(b) < diagMsgLen {
		return diagSocket{}, fmt.Errorf("agent: sock_diag: message of %d bytes", len(b))
	}
	family := b[0]
	id := b[diagMsgID:]
	addr := func(a []byte) netip.Addr {
		if family == unix.AF_INET {
			return netip.AddrFrom4([4]byte(a[:4]))
		}
		return netip.AddrFrom16([16]byte(a[:16])).Unmap()
	}
	return diagSocket{
		local:  netip.AddrPortFrom(addr(id[4:20]), binary.BigEndian.Uint16(id[0:])),
		remote: netip.AddrPortFrom(addr(id[20:36]), binary.BigEndian.Uint16(id[2:])),
		uid:    int(binary.NativeEndian.Uint32(b[diagUIDOff:])),
		inode:  uint64(binary.NativeEndian.Uint32(b[diagINOff:])),
	}, nil
}
