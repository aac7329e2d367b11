//go:build windows

// Command winprobe opens Kyso's Windows dialogs (package prompt, through
// the zenity package's Windows backend) for the Wine test (wine/), which
// answers them from outside with xdotool, and prints what each call
// returned as one JSON line. It is a test program: never built into a
// package, never shipped.
//
//	winprobe consent    prompt.Native("en").ApproveOrigin
//	winprobe pin        prompt.Native("en").PIN
//	winprobe raw        zenity.Question and user32 MessageBoxW alone: what
//	                    they return when no dialog can be shown
//	winprobe forward LISTEN TARGET
//	                    relays TCP connections from 127.0.0.1:LISTEN to
//	                    127.0.0.1:TARGET, until killed: the agent answers
//	                    only clients its user's Windows processes own
//	                    (GetExtendedTcpTable), and the test's own sockets
//	                    are Linux ones Wine does not list
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/ncruces/zenity"
	"golang.org/x/sys/windows"

	"kyso.vn/kyso/prompt"
)

type result struct {
	Approval string `json:"approval,omitempty"`
	PIN      string `json:"pin,omitempty"`
	Err      string `json:"err"`
	ErrType  string `json:"errType,omitempty"`
	NoDialog bool   `json:"noDialog,omitempty"` // errors.Is(err, prompt.ErrNoDialog)
	// raw only
	ZenityErr   string `json:"zenityErr,omitempty"`
	MessageBox  int32  `json:"messageBox,omitempty"`
	LastError   string `json:"lastError,omitempty"`
	ZenityIsNil bool   `json:"zenityIsNil,omitempty"`
}

func main() {
	if len(os.Args) == 4 && os.Args[1] == "forward" {
		if err := forward(os.Args[2], os.Args[3]); err != nil {
			fmt.Fprintln(os.Stderr, "winprobe forward:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: winprobe consent|pin|raw | winprobe forward LISTEN TARGET")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var r result
	p := prompt.Native("en")
	switch os.Args[1] {
	case "consent":
		a, err := p.ApproveOrigin(ctx, "https://new.example.vn")
		r.Approval, r.Err, r.ErrType = approvalName(a), errString(err), fmt.Sprintf("%T", err)
		r.NoDialog = errors.Is(err, prompt.ErrNoDialog)
	case "pin":
		pin, err := p.PIN(ctx, prompt.PINRequest{Operation: prompt.Operation{Origin: "https://portal.example.vn",
			Holder: "NGUYỄN VĂN AN", Token: "Kyso Wine"}})
		r.PIN, r.Err = string(pin), errString(err)
	case "raw":
		err := zenity.Question("Kyso Wine probe", zenity.Context(ctx), zenity.Title("Kyso — probe"))
		r.ZenityErr, r.ZenityIsNil = errString(err), err == nil
		ret, err := windows.MessageBox(0, windows.StringToUTF16Ptr("Kyso Wine probe"),
			windows.StringToUTF16Ptr("Kyso — probe"), windows.MB_OKCANCEL)
		r.MessageBox, r.LastError = ret, errString(err)
	default:
		os.Exit(2)
	}
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
}

func approvalName(a prompt.Approval) string {
	switch a {
	case prompt.AllowOnce:
		return "AllowOnce"
	case prompt.AllowAlways:
		return "AllowAlways"
	case prompt.Deny:
		return "Deny"
	}
	return fmt.Sprint(int(a))
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// forward relays each connection to 127.0.0.1:listen to 127.0.0.1:target,
// byte for byte both ways, from this Windows process.
func forward(listen, target string) error {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", listen))
	if err != nil {
		return err
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			up, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", target))
			if err != nil {
				return
			}
			defer up.Close()
			go func() { _, _ = io.Copy(up, c); up.(*net.TCPConn).CloseWrite() }()
			_, _ = io.Copy(c, up)
		}()
	}
}
