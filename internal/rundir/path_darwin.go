package rundir

import (
	"fmt"
	"os"
	"path/filepath"
)

// SocketPath is where the agent's local socket lives: ~/Library/Caches/kyso
// (per user, not synced), else a per-uid dir in the user's private $TMPDIR
// when the home path is too long for a socket address.
func SocketPath() string {
	if d, err := os.UserCacheDir(); err == nil {
		if p := filepath.Join(d, "kyso", "agent.sock"); len(p) <= maxSocketPath {
			return p
		}
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("kyso-%d", os.Getuid()), "agent.sock")
}
