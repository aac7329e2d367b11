//go:build !linux

package agent

import "net/netip"

// tcpPeerUID is not done on macOS and Windows yet: any local user's process
// can reach the loopback port there, as with every loopback server
// (SECURITY.md).
func tcpPeerUID(ours, peer netip.AddrPort) (int, error) {
	return -1, errPeerUnknown
}
