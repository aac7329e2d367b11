package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"kyso.vn/kyso/agent"
	"kyso.vn/kyso/engine"
	"kyso.vn/kyso/installer"
)

func init() {
	register(command{name: "status", usage: "is the agent running; port, socket, modules and tokens", run: runStatus})
}

// runStatus prints the state; it exits 3 when the agent is not running
// (the LSB/systemctl convention), so scripts can test it.
func runStatus(args []string) error {
	o, configFile, err := installFlags("status", args)
	if err != nil {
		return err
	}
	vi := localeIsVietnamese()
	env, paths, _, serr := doctorSetup(o, configFile)
	fmt.Printf("Kyso %s (protocol 1)\n", engine.Version)

	running := env.Agent() == nil
	state := env.PortProbe(env.Port)
	fmt.Printf("%s: %s\n", pick(vi, "Tác tử", "Agent"), pick(vi, yesNo(running, "đang chạy", "không chạy"), yesNo(running, "running", "not running")))
	portState := map[installer.PortState][2]string{
		installer.PortFree:  {"trống", "free"},
		installer.PortKyso:  {"Kyso đang nghe", "Kyso listening"},
		installer.PortOther: {"bị chương trình khác chiếm", "taken by another program"},
	}[state]
	fmt.Printf("WebSocket: ws://127.0.0.1:%d/v1 (%s)\n", env.Port, pick(vi, portState[0], portState[1]))
	fmt.Printf("%s: %s\n", pick(vi, "Socket cục bộ", "Local socket"), agent.SocketPath())
	if running {
		printAgentStats(vi)
	}

	for _, sc := range []struct {
		o    installer.Options
		name [2]string
	}{{env.User, [2]string{"cho người dùng này", "for this user"}}, {env.System, [2]string{"cho mọi người dùng", "for all users"}}} {
		rec, err := installer.ReadRecord(sc.o)
		switch {
		case err == nil:
			fmt.Printf("%s %s: %s (%s)\n", pick(vi, "Đã cài", "Installed"), pick(vi, sc.name[0], sc.name[1]), rec.Binary, rec.Version)
		case !errors.Is(err, installer.ErrNotInstalled):
			fmt.Printf("%s %s: %v\n", pick(vi, "Bản ghi cài đặt", "Install record"), pick(vi, sc.name[0], sc.name[1]), err)
		}
	}
	fmt.Printf("%s: %s, %s\n", pick(vi, "Chính sách", "Policy"), paths.System, paths.User)
	if serr != nil {
		fmt.Printf("  ✘ %v\n", serr)
	}

	fmt.Println(pick(vi, "Mô-đun PKCS#11:", "PKCS#11 modules:"))
	mods := env.Modules()
	if len(mods) == 0 {
		fmt.Println("  " + pick(vi, "(không tìm thấy)", "(none found)"))
	}
	for _, m := range mods {
		if m.Loaded {
			fmt.Printf("  ✔ %s (%s)\n", m.Path, m.Source)
		} else {
			fmt.Printf("  ✘ %s (%s): %v\n", m.Path, m.Source, m.Err)
		}
	}
	fmt.Println(pick(vi, "Token:", "Tokens:"))
	toks, err := env.Tokens()
	if err != nil {
		fmt.Printf("  %v\n", err)
	} else if len(toks) == 0 {
		fmt.Println("  " + pick(vi, "(không có)", "(none)"))
	}
	for _, t := range toks {
		fmt.Printf("  %s — %s %s (%s)\n", t.Label, t.Manufacturer, t.Model, t.SerialNumber)
	}
	if !running {
		return &exitError{code: 3}
	}
	return nil
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

// printAgentStats prints what the running agent says of itself (asked over
// its user-only local socket): goroutines, memory and open connections.
func printAgentStats(vi bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := agent.QueryStats(ctx)
	if err != nil {
		fmt.Printf("  %s: %v\n", pick(vi, "không đọc được số liệu của tác tử", "cannot read the agent's figures"), err)
		return
	}
	rss := pick(vi, "không rõ", "unknown")
	if st.RSS > 0 {
		rss = mib(st.RSS)
	}
	fmt.Printf("  %s: %d, heap %s, RSS %s\n", pick(vi, "Goroutine", "Goroutines"), st.Goroutines, mib(st.HeapInUse), rss)
	fmt.Printf("  %s: WebSocket %d, %s %d\n", pick(vi, "Kết nối", "Connections"), st.Connections.WebSocket,
		pick(vi, "socket cục bộ", "local socket"), st.Connections.Local)
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
