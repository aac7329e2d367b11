package testenv

import (
	"strings"
	"sync"
	"time"
)

// WindowWatch records every window whose title matches a pattern while it
// runs, and how many were open at once at most: "no dialog appeared" and
// "never more than one dialog" are what the attack suites assert.
type WindowWatch struct {
	stop, done chan struct{}
	mu         sync.Mutex
	seen       map[string]string // window id → title
	max        int
}

// WatchWindows polls display (every 100 ms) for windows whose title
// matches titlePattern until End is called.
func WatchWindows(display, titlePattern string) *WindowWatch {
	w := &WindowWatch{stop: make(chan struct{}), done: make(chan struct{}), seen: map[string]string{}}
	go func() {
		defer close(w.done)
		for {
			out, _ := xdotool(display, stepLimit, "search", "--name", titlePattern)
			ids := strings.Fields(out)
			w.mu.Lock()
			w.max = max(w.max, len(ids))
			for _, id := range ids {
				if _, ok := w.seen[id]; !ok {
					name, _ := xdotool(display, stepLimit, "getwindowname", id)
					w.seen[id] = name
				}
			}
			w.mu.Unlock()
			select {
			case <-w.stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return w
}

// End stops the watch and returns the most windows seen at once and the
// "id title" of every window it saw.
func (w *WindowWatch) End() (most int, seen []string) {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	for id, name := range w.seen {
		seen = append(seen, id+" "+name)
	}
	return w.max, seen
}
