package agent

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
)

// errPeerUnknown: this OS gives no cheap way to learn who owns the other
// end of a loopback TCP connection.
var errPeerUnknown = errors.New("agent: the owner of a TCP peer is not known on this OS")

// peerIsUs refuses a WebSocket client whose socket belongs to another local
// user, where the OS tells (Linux); elsewhere it lets it through, and the
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
	uid, err := tcpPeerUID(ours.AddrPort(), peer.AddrPort())
	switch {
	case errors.Is(err, errPeerUnknown):
		return nil
	case err != nil:
		return err // unsure is not us
	case uid != os.Getuid():
		return fmt.Errorf("agent: the client socket belongs to another user (uid %d)", uid)
	}
	return nil
}
