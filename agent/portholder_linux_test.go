package agent

import (
	"net"
	"os"
	"strconv"
	"testing"

	"kyso.vn/kyso/internal/testenv"
)

// Our own listener is named with our pid and program, from netlink and
// from /proc alike (issue 16, finding 6a: PortHolders does not exist on the
// base commit).
func TestPortHoldersOwn(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	exe, _ := os.Executable()
	for _, netlink := range []bool{true, false} {
		diagOff.Store(!netlink)
		hs, err := PortHolders(port)
		diagOff.Store(false)
		if err != nil || len(hs) != 1 {
			t.Fatalf("netlink %v: %+v, %v", netlink, hs, err)
		}
		h := hs[0]
		if h.PID != os.Getpid() || h.Exe != exe || !h.Us || !h.IsKyso() || h.Addr != ln.Addr().String() {
			t.Errorf("netlink %v: %+v; want pid %d, %s", netlink, h, os.Getpid(), exe)
		}
	}
	// A listener on another address does not take loopback connections.
	if listensForLoopback("192.168.1.5:28418") || !listensForLoopback("[::]:28418") || !listensForLoopback("0.0.0.0:1") {
		t.Error("listensForLoopback")
	}
}

// Another user's program holding the port is named with its user, pid and
// program path, and is not Kyso (needs root to run one).
func TestPortHoldersOtherUser(t *testing.T) {
	line, pid := testenv.PythonAsNobody(t, `import socket,sys
s=socket.socket(socket.AF_INET6)
s.bind(("::", 0)); s.listen()
print(s.getsockname()[1], flush=True)
sys.stdin.read()`)
	port, err := strconv.Atoi(line)
	if err != nil {
		t.Fatalf("python said %q", line)
	}
	exe, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	hs, err := PortHolders(port)
	if err != nil || len(hs) != 1 {
		t.Fatalf("%+v, %v", hs, err)
	}
	h := hs[0]
	if h.PID != pid || h.Exe != exe || h.Us || h.IsKyso() || h.User != userName(65534) || h.Addr != "[::]:"+strconv.Itoa(port) {
		t.Errorf("%+v; want pid %d, %s, user %s", h, pid, exe, userName(65534))
	}
	// The same user running a program called kyso that is not this
	// process would count as Kyso; another user's never does.
	if (PortHolder{Exe: "/usr/bin/kyso", Us: false, PID: 1}).IsKyso() || !(PortHolder{Exe: `C:\Kyso\kyso.exe`, Us: true, PID: 1}).IsKyso() {
		t.Error("IsKyso")
	}
}
