package agent

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
)

// errPeerUnknown: this OS gives no cheap way to learn who owns the other
// end of a loopback TCP connection.
var errPeerUnknown = errors.New("agent: the owner of a TCP peer is not known on this OS")

// peerIsUs refuses a WebSocket client whose socket belongs to another local
// user, where the OS tells (Linux: its uid; Windows: its process's user
// SID); elsewhere it lets it through, and the
// dialogs still stand between that user and a signature (SECURITY.md). The
// owner is looked up once per connection (countedConn), and it does not
// change between the requests of a kept-alive one.
func peerIsUs(r *http.Request) error {
	if c, ok := r.Context().Value(connKey{}).(*countedConn); ok {
		return c.peerErr()
	}
	ours, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	peer, err := net.ResolveTCPAddr("tcp", r.RemoteAddr)
	if err != nil {
		return fmt.Errorf("agent: connection address %q: %w", r.RemoteAddr, err)
	}
	return connPeerIsUs(ours, peer)
}

// connKey is the context key under which the WebSocket server keeps the
// request's *countedConn.
type connKey struct{}

// connPeerIsUs is peerIsUs for the two ends of a connection.
func connPeerIsUs(local, remote net.Addr) error {
	ours, ok1 := local.(*net.TCPAddr)
	peer, ok2 := remote.(*net.TCPAddr)
	if !ok1 || !ok2 {
		return fmt.Errorf("agent: connection addresses %v, %v", local, remote)
	}
	same, who, err := tcpPeerOwner(ours.AddrPort(), peer.AddrPort())
	switch {
	case errors.Is(err, errPeerUnknown):
		return nil
	case err != nil:
		return err // unsure is not us
	case !same:
		return fmt.Errorf("agent: the client socket belongs to another user (%s)", who)
	}
	return nil
}

// unmap turns ::ffff:127.0.0.1 (an IPv6 socket talking IPv4) into 127.0.0.1.
func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
