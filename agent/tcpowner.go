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
// dialogs still stand between that user and a signature (SECURITY.md).
func peerIsUs(r *http.Request) error {
	ours, ok1 := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr)
	peer, err := net.ResolveTCPAddr("tcp", r.RemoteAddr)
	if !ok1 || err != nil {
		return fmt.Errorf("agent: connection addresses %v, %q", ours, r.RemoteAddr)
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
