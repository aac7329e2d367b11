package rundir

import (
	"fmt"
	"os"
	"path/filepath"
)

// SocketPath is where the agent's local socket lives:
// $XDG_RUNTIME_DIR/kyso/agent.sock (a per-user tmpfs the system cleans at
// logout), else the user's cache dir, else a per-uid dir under /tmp when
// those are too long for a socket address.
func SocketPath() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) {
		if p := filepath.Join(d, "kyso", "agent.sock"); len(p) <= maxSocketPath {
			return p
		}
	}
	return fallbackSocketPath()
}

func fallbackSocketPath() string {
	if d, err := os.UserCacheDir(); err == nil {
		if p := filepath.Join(d, "kyso", "agent.sock"); len(p) <= maxSocketPath {
			return p
		}
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("kyso-%d", os.Getuid()), "agent.sock")
}
