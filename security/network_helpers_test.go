//go:build linux && cgo

package security

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"kyso.vn/kyso/internal/testenv"
)

// netHandshake sends a WebSocket upgrade request for /v1 to the agent with
// the given Host and Origin headers ("" leaves a header out), written by
// hand so that any spelling goes through as is, and returns the HTTP status
// of the answer (101 when the agent upgraded).
func netHandshake(t testing.TB, a *testenv.Agent, host, origin string) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(a.Port), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	var b strings.Builder
	b.WriteString("GET /v1 HTTP/1.1\r\n")
	if host != "" {
		fmt.Fprintf(&b, "Host: %s\r\n", host)
	}
	b.WriteString("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")
	if origin != "" {
		fmt.Fprintf(&b, "Origin: %s\r\n", origin)
	}
	b.WriteString("\r\n")
	if _, err := c.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("handshake Host %q Origin %q: %v", host, origin, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// netHost is the agent's right Host header.
func netHost(a *testenv.Agent) string { return "127.0.0.1:" + strconv.Itoa(a.Port) }

// netDial opens a WebSocket as origin and returns the connection (nil when
// refused) and the HTTP status.
func netDial(a *testenv.Agent, origin string) (*websocket.Conn, int, error) {
	c, resp, err := a.Dial(origin)
	if err == nil {
		return c, http.StatusSwitchingProtocols, nil
	}
	if resp != nil {
		return nil, resp.StatusCode, nil
	}
	return nil, 0, err
}

// netNoDialog fails when any Kyso window is open on display: an attack that
// got no further than the handshake must not reach the person.
func netNoDialog(t testing.TB, display string) {
	t.Helper()
	if testenv.HasWindow(t, display, "^Kyso") {
		t.Fatal("a Kyso dialog is open")
	}
}

// netVersion checks that origin's page is served: it connects and
// `version` answers.
func netVersion(t testing.TB, a *testenv.Agent, origin string) {
	t.Helper()
	c, status, err := netDial(a, origin)
	if c == nil {
		t.Fatalf("a page of %s is not served: HTTP %d %v", origin, status, err)
	}
	defer c.Close()
	if r := call(t, c, req("v", "version", nil)); !r.OK {
		t.Fatalf("version as %s: %+v", origin, r)
	}
}

// netClosed reports (on the returned channel, once) when the peer ends c:
// any read that returns, with data or an error, ends the wait.
func netClosed(c net.Conn, limit time.Duration) <-chan error {
	done := make(chan error, 1)
	go func() {
		c.SetReadDeadline(time.Now().Add(limit))
		buf := make([]byte, 512)
		for {
			if _, err := c.Read(buf); err != nil {
				done <- err
				return
			}
		}
	}()
	return done
}
