package host

import (
	"fmt"
	"slices"
	"strings"
)

// Caller identifies the browser extension that started the host.
type Caller struct {
	Browser string // "chromium" or "firefox"
	ID      string // extension id
}

func (c Caller) String() string { return c.Browser + ":" + c.ID }

// CheckCaller reads the arguments a browser starts a native-messaging host
// with and accepts only the Kyso extension. Chromium-family browsers pass the
// caller origin "chrome-extension://<id>/" (on Windows followed by
// --parent-window=N); Firefox passes the path of the host manifest and the
// add-on id. The browser already enforces the manifest's allowed list; this
// check is a second lock and turns a hand-started `kyso host` into a clear
// error instead of a process waiting on stdin.
func CheckCaller(args []string) (Caller, error) {
	if len(args) == 0 {
		return Caller{}, fmt.Errorf("not started by a browser: the native-messaging host expects chrome-extension://<id>/ or a Firefox manifest path and %s", FirefoxID)
	}
	if rest, ok := strings.CutPrefix(args[0], "chrome-extension://"); ok {
		id := strings.TrimSuffix(rest, "/")
		if !slices.Contains(ChromiumIDs, id) {
			return Caller{}, fmt.Errorf("extension %q is not the Kyso extension", args[0])
		}
		for _, a := range args[1:] {
			if !strings.HasPrefix(a, "--parent-window=") {
				return Caller{}, fmt.Errorf("unexpected argument %q", a)
			}
		}
		return Caller{Browser: "chromium", ID: id}, nil
	}
	if strings.HasSuffix(args[0], ".json") {
		if len(args) != 2 || args[1] != FirefoxID {
			return Caller{}, fmt.Errorf("Firefox add-on %q is not the Kyso extension (%s)", strings.Join(args[1:], " "), FirefoxID)
		}
		return Caller{Browser: "firefox", ID: FirefoxID}, nil
	}
	return Caller{}, fmt.Errorf("not started by a browser: unexpected argument %q", args[0])
}
