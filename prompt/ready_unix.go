//go:build !windows && !darwin

package prompt

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ncruces/zenity"
)

// dialogReady checks, before a dialog, that the zenity program can show
// one: it is installed, and a Wayland or X display can be reached. The
// zenity program cannot tell "no display" from Cancel (GTK exits with
// status 1 for both), so without this check a page asking where no
// desktop session runs was told USER_CANCELLED (finding 11).
func dialogReady() error {
	if !zenity.IsAvailable() {
		return noDialog(errors.New("the zenity program is not installed"))
	}
	if w := os.Getenv("WAYLAND_DISPLAY"); w != "" {
		p := w
		if !filepath.IsAbs(p) {
			p = filepath.Join(os.Getenv("XDG_RUNTIME_DIR"), w)
		}
		if reachable("unix", p) {
			return nil
		}
	}
	d := os.Getenv("DISPLAY")
	if d == "" {
		return noDialog(errors.New("no desktop session: neither DISPLAY nor WAYLAND_DISPLAY is set"))
	}
	if !x11Reachable(d) {
		return noDialog(fmt.Errorf("the X display %q cannot be reached", d))
	}
	return nil
}

// x11Reachable reports whether the X server of display name d
// ([host]:number[.screen]) accepts a connection: the local socket (file,
// or Linux's abstract one) or TCP 6000+number. A name it does not
// understand is left to the dialog program.
func x11Reachable(d string) bool {
	i := strings.LastIndexByte(d, ':')
	if i < 0 {
		return true
	}
	host, num := d[:i], d[i+1:]
	num, _, _ = strings.Cut(num, ".")
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return true
	}
	switch {
	case host == "" || host == "unix":
		sock := "/tmp/.X11-unix/X" + num
		return reachable("unix", sock) || reachable("unix", "@"+sock)
	case strings.HasPrefix(host, "/"):
		return reachable("unix", d) // a socket path (macOS's XQuartz style)
	}
	return reachable("tcp", net.JoinHostPort(host, strconv.Itoa(6000+n)))
}

func reachable(network, addr string) bool {
	c, err := net.DialTimeout(network, addr, 2*time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
