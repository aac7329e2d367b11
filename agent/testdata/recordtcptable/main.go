//go:build windows

// recordtcptable records real GetExtendedTcpTable answers for the agent's
// parsing tests (agent/tcptable_test.go): it opens a loopback listener and
// one connection over IPv4 and IPv6, writes the four owner-pid tables and
// this process's user SID, and prints what the tables must hold. Run on
// Windows (or under Wine) from the repository root:
//
//	GOOS=windows go build -o rec.exe ./agent/testdata/recordtcptable/main.go
//	rec.exe agent\testdata
//
// It uses only the standard library, so that an older Go (1.21, before the
// runtime needed bcryptprimitives.dll) builds a program Wine 8 runs:
//
//	GOTOOLCHAIN=go1.21.13 GOOS=windows go build -o rec.exe ./agent/testdata/recordtcptable/main.go
//	wine rec.exe 'Z:\path\to\kyso\agent\testdata'
package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"unsafe"
)

var proc = syscall.NewLazyDLL("iphlpapi.dll").NewProc("GetExtendedTcpTable")

func table(af, class uint32) []byte {
	size := uint32(64 << 10)
	for {
		buf := make([]byte, size)
		r, _, _ := proc.Call(uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&size)), 0, uintptr(af), uintptr(class), 0)
		switch r {
		case 0:
			return buf[:size]
		case 122: // ERROR_INSUFFICIENT_BUFFER: size is the size needed
			size += 4 << 10
			continue
		}
		panic(fmt.Sprintf("GetExtendedTcpTable(%d, %d): %d", af, class, r))
	}
}

func main() {
	dir := os.Args[1]
	out := map[string]string{}
	for _, c := range []struct{ name, network, addr string }{{"4", "tcp4", "127.0.0.1:0"}, {"6", "tcp6", "[::1]:0"}} {
		ln, err := net.Listen(c.network, c.addr)
		if err != nil {
			panic(err)
		}
		cl, err := net.Dial(c.network, ln.Addr().String())
		if err != nil {
			panic(err)
		}
		sv, err := ln.Accept()
		if err != nil {
			panic(err)
		}
		af := uint32(syscall.AF_INET)
		if c.name == "6" {
			af = 23 // AF_INET6 on Windows
		}
		os.WriteFile(filepath.Join(dir, "tcptable_v"+c.name+"_listener.bin"), table(af, 3), 0o644)
		os.WriteFile(filepath.Join(dir, "tcptable_v"+c.name+"_connections.bin"), table(af, 4), 0o644)
		out["v"+c.name] = fmt.Sprintf("listener %s client %s server %s", ln.Addr(), cl.LocalAddr(), sv.LocalAddr())
		defer ln.Close()
		defer cl.Close()
		defer sv.Close()
	}
	tok, err := syscall.OpenCurrentProcessToken()
	if err != nil {
		panic(err)
	}
	u, err := tok.GetTokenUser()
	if err != nil {
		panic(err)
	}
	sid := unsafe.Slice((*byte)(unsafe.Pointer(u.User.Sid)), syscall.GetLengthSid(u.User.Sid))
	os.WriteFile(filepath.Join(dir, "tcptable_sid.bin"), sid, 0o644)
	str, _ := u.User.Sid.String()
	fmt.Printf("pid %d\nsid %s\n%s\n%s\n", os.Getpid(), str, out["v4"], out["v6"])
}
