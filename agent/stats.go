package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"

	"kyso.vn/kyso/internal/rundir"
	"kyso.vn/kyso/internal/wire"
)

// Stats is what the agent reports about itself to its own user, on the
// local socket only (`kyso status`, and the security suite's leak checks).
// The WebSocket never answers it: a page learns nothing about the machine.
type Stats struct {
	Goroutines  int    `json:"goroutines"`
	HeapInUse   uint64 `json:"heapInUse"` // bytes, after a GC: live memory
	RSS         uint64 `json:"rss"`       // bytes; 0 where the OS makes it costly to read
	Connections struct {
		WebSocket int `json:"websocket"`
		Local     int `json:"local"`
	} `json:"connections"`
}

// stats collects the agent's Stats. It collects garbage first, so two
// readings compare live memory, not what the collector has yet to reclaim.
func (a *Agent) stats() Stats {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	var s Stats
	s.Goroutines = runtime.NumGoroutine()
	s.HeapInUse = m.HeapInuse
	s.RSS = residentBytes()
	s.Connections.WebSocket = int(a.wsConns.Load())
	s.Connections.Local = int(a.localConns.Load())
	return s
}

// QueryStats asks the running agent for its Stats over this user's local
// socket.
func QueryStats(ctx context.Context) (Stats, error) { return queryStatsAt(ctx, rundir.SocketPath()) }

func queryStatsAt(ctx context.Context, path string) (Stats, error) {
	var s Stats
	c, err := DialLocalAt(ctx, path)
	if err != nil {
		return s, err
	}
	defer c.Close()
	// The question is a message of its own (wire.Stats), never a request.
	b, err := ask(ctx, c, wire.Stats)
	if err != nil {
		return s, fmt.Errorf("agent: asking for stats: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("agent: stats answer %.80q: %w", b, err)
	}
	return s, nil
}
