package agent

import (
	"os"
	"strings"

	"github.com/rs/zerolog"
)

// PortHolder is a process listening on a TCP port of this machine, as far
// as the OS tells (issue 16, finding 6): a program that takes the WebSocket
// port before Kyso gets every page's requests, PINs excepted (those are
// typed only into Kyso's own dialogs), so the agent logs it and
// `kyso doctor` names it.
type PortHolder struct {
	Addr string // the listening address, e.g. 127.0.0.1:28418
	PID  int    // 0 when not known (another user's process: its /proc/PID/fd is closed to us)
	User string // user name, else the uid (Unix) or SID (Windows); "" when not known
	Exe  string // the executable's full path; "" when not known
	Us   bool   // it runs as this user
}

// IsKyso reports whether the holder is a Kyso agent of this user: this
// process, or a program named kyso running as this user. A program of
// another user is never counted as Kyso: its dialogs would open on the
// other user's desktop.
func (h PortHolder) IsKyso() bool {
	if h.PID != 0 && h.PID == os.Getpid() {
		return true
	}
	name := h.Exe[strings.LastIndexAny(h.Exe, `/\`)+1:] // a Windows path too
	name = strings.TrimSuffix(strings.ToLower(name), ".exe")
	return h.Us && h.Exe != "" && (name == "kyso" || name == "kysow")
}

// PortHolders lists the processes listening on port on a loopback or
// wildcard address (those that pages reaching 127.0.0.1 or [::1] talk to).
// Each OS has its own way (portholder_*.go).
func PortHolders(port int) ([]PortHolder, error) { return portHolders(port) }

// LogPortHolders logs, as an error, each holder of port that is not a Kyso
// agent of this user (the agent could not bind it, or only one of its two
// addresses); a Kyso of this user is logged as info. Errors of the lookup
// are logged as a warning: nothing else depends on it.
func LogPortHolders(log zerolog.Logger, port int) {
	hs, err := PortHolders(port)
	if err != nil {
		log.Warn().Err(err).Int("port", port).Msg("cannot tell who holds the WebSocket port")
	}
	for _, h := range hs {
		if h.PID == os.Getpid() {
			continue
		}
		ev := log.Error()
		msg := "the WebSocket port is held by a program that is not Kyso: pages may talk to it instead"
		if h.IsKyso() {
			ev, msg = log.Info(), "another Kyso agent of this user holds the WebSocket port"
		} else if !h.Us {
			msg = "the WebSocket port is held by another user's program: pages may talk to it instead"
		}
		ev.Int("port", port).Str("addr", h.Addr).Int("pid", h.PID).Str("user", h.User).
			Str("exe", h.Exe).Msg(msg)
	}
}

// listensForLoopback: a listener on this address gets connections made to
// loopback (a loopback or a wildcard address).
func listensForLoopback(addr string) bool {
	host := addr
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		host = strings.Trim(addr[:i], "[]")
	}
	return host == "0.0.0.0" || host == "::" || strings.HasPrefix(host, "127.") || host == "::1" ||
		strings.HasPrefix(host, "::ffff:127.")
}
