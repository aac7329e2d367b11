package e2e_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kyso.vn/kyso/internal/testenv"
)

// One tab floods the extension from five frames at once (issue 16,
// finding 9: each frame had its own cap of 8, so one tab could hold all
// 32 native ports); meanwhile the portal in another tab signs its form.
// With the caps per tab (8), per origin (16) and in all (32), the flood
// never holds more than 8 `kyso host` processes and the portal signs.
func TestExtensionTabCaps(t *testing.T) {
	s := newSite(t, testenv.RepoRoot(t))
	w := newWorld(t, setup{extension: true, native: true, flags: siteFlags()})
	flood := w.newTab("flood")
	flood.open(s.origin("flood") + "/")
	// Four more frames of the same origin in the flooding tab, each with
	// kyso.js and the attack script (same origin: the top reaches them).
	flood.eval(`(async () => {
  for (let i = 0; i < 4; i++) {
    const f = document.createElement("iframe");
    f.src = "/";
    document.body.append(f);
  }
  const frames = [...document.querySelectorAll("iframe")].map((f) => f.contentWindow);
  while (!frames.every((f) => f.ready && f.H)) await new Promise((r) => setTimeout(r, 50));
  window.floodFrames = [window, ...frames];
  return "ok";
})()`)
	// Every frame keeps 8 requests going until told to stop: 40 wanted.
	flood.eval(fmt.Sprintf(`(() => {
  window.floodCodes = {};
  window.floodStop = false;
  for (const f of window.floodFrames) {
    const c = f.H.client(%d, "ext");
    for (let i = 0; i < 8; i++) (async () => {
      while (!window.floodStop) {
        const code = await f.H.code(c.version());
        window.floodCodes[code] = (window.floodCodes[code] || 0) + 1;
        if (code === "BUSY") await new Promise((r) => setTimeout(r, 10));
      }
    })();
  }
  return "ok";
})()`, w.port))

	// Count the hosts the browser runs for this world while the flood and
	// the signature go on.
	var most atomic.Int32
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if n := int32(w.hostProcesses()); n > most.Load() {
				most.Store(n)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	time.Sleep(2 * time.Second) // the flood is under way
	w.signForm()
	close(stop)
	<-done
	codes := flood.eval(`window.floodStop = true, JSON.stringify(window.floodCodes)`)
	t.Logf("flooding tab's answers while the portal signed: %s; most kyso host processes at once: %d", codes, most.Load())
	if !strings.Contains(codes, `"BUSY"`) {
		t.Errorf("the flooding tab was never capped: %s", codes)
	}
	// 8 for the flooding tab, and the portal's one request at a time (it
	// asks for the certificate, then signs), plus one starting as another
	// exits.
	if most.Load() > 10 {
		t.Errorf("%d kyso host processes at once; the flooding tab may hold 8", most.Load())
	}
}

// hostProcesses counts the `kyso host` processes Chromium started for this
// world (its kyso binary, our XDG_RUNTIME_DIR in their environment).
func (w *world) hostProcesses() int {
	mine := []byte("XDG_RUNTIME_DIR=" + filepath.Join(w.dir, "run") + "\x00")
	procs, _ := filepath.Glob("/proc/[0-9]*")
	n := 0
	for _, p := range procs {
		cmd, err := os.ReadFile(filepath.Join(p, "cmdline"))
		if err != nil || !bytes.HasPrefix(cmd, []byte(w.kyso+"\x00chrome-extension://")) {
			continue
		}
		if env, err := os.ReadFile(filepath.Join(p, "environ")); err == nil && bytes.Contains(env, mine) {
			n++
		}
	}
	return n
}
