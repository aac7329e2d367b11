package agent

import "net/netip"

// tcpPeerOwner is not done on darwin yet: any local user's process can
// reach the loopback port there, as with every loopback server
// (SECURITY.md). Without cgo it would need sysctl
// net.inet.tcp.pcblist_n (struct xsocket_n's so_uid), whose layout is not
// a stable interface.
func tcpPeerOwner(ours, peer netip.AddrPort) (bool, string, error) {
	return false, "", errPeerUnknown
}
