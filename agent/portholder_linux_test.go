package agent

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
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
	if os.Getuid() != 0 {
		t.Skip("needs root to listen as another uid")
	}
	cmd := exec.Command("/usr/bin/python3", "-c", `import socket,sys
s=socket.socket(socket.AF_INET6)
s.bind(("::", 0)); s.listen()
print(s.getsockname()[1], flush=True)
sys.stdin.read()`)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Skipf("python3 as nobody: %v", err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	port, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("python said %q", line)
	}
	exe, _ := os.Readlink("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/exe")
	hs, err := PortHolders(port)
	if err != nil || len(hs) != 1 {
		t.Fatalf("%+v, %v", hs, err)
	}
	h := hs[0]
	if h.PID != cmd.Process.Pid || h.Exe != exe || h.Us || h.IsKyso() || h.User != userName(65534) || h.Addr != "[::]:"+strconv.Itoa(port) {
		t.Errorf("%+v; want pid %d, %s, user %s", h, cmd.Process.Pid, exe, userName(65534))
	}
	// The same user running a program called kyso that is not this
	// process would count as Kyso; another user's never does.
	if (PortHolder{Exe: "/usr/bin/kyso", Us: false, PID: 1}).IsKyso() || !(PortHolder{Exe: `C:\Kyso\kyso.exe`, Us: true, PID: 1}).IsKyso() {
		t.Error("IsKyso")
	}
}
