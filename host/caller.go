package host

import (
	"fmt"
	"slices"
	"strings"

	"kyso.vn/kyso/internal/extid"
)

// Caller identifies the browser extension that started the host.
type Caller struct {
	Browser string // "chromium" or "firefox"
	ID      string // extension id
}

func (c Caller) String() string { return c.Browser + ":" + c.ID }

// CheckCaller reads the arguments a browser starts a native-messaging host
// with and accepts only a Kyso extension: Kyso's own ids (internal/extid:
// the development id and the published store ids) and the Chromium-family
// ids in policyIDs (the system policy's extensionIds, for a self-hosted
// build packed with the admin's key). Chromium-family browsers pass the
// caller origin "chrome-extension://<id>/" (on Windows followed by
// --parent-window=N); Firefox passes the path of the host manifest and the
// add-on id. The browser already enforces the manifest's allowed list; this
// check is a second lock and turns a hand-started `kyso host` into a clear
// error instead of a process waiting on stdin.
func CheckCaller(args, policyIDs []string) (Caller, error) {
	firefox := extid.Kyso.Firefox.ID
	if len(args) == 0 {
		return Caller{}, fmt.Errorf("not started by a browser: the native-messaging host expects chrome-extension://<id>/ or a Firefox manifest path and %s", firefox)
	}
	if rest, ok := strings.CutPrefix(args[0], "chrome-extension://"); ok {
		id := strings.TrimSuffix(rest, "/")
		if !extid.Valid(id) || !slices.Contains(extid.Merge(extid.Kyso.Chromium(), policyIDs), id) {
			return Caller{}, fmt.Errorf("extension %q is not the Kyso extension (nor listed in the system policy's extensionIds)", args[0])
		}
		for _, a := range args[1:] {
			if !strings.HasPrefix(a, "--parent-window=") {
				return Caller{}, fmt.Errorf("unexpected argument %q", a)
			}
		}
		return Caller{Browser: "chromium", ID: id}, nil
	}
	if strings.HasSuffix(args[0], ".json") {
		if len(args) != 2 || args[1] != firefox {
			return Caller{}, fmt.Errorf("Firefox add-on %q is not the Kyso extension (%s)", strings.Join(args[1:], " "), firefox)
		}
		return Caller{Browser: "firefox", ID: firefox}, nil
	}
	return Caller{}, fmt.Errorf("not started by a browser: unexpected argument %q", args[0])
}
