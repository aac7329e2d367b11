package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"kyso.vn/kyso/agent"
	"kyso.vn/kyso/engine"
	"kyso.vn/kyso/installer"
	"kyso.vn/kyso/internal/rundir"
	"kyso.vn/kyso/messages"
	"kyso.vn/kyso/protocol"
)

func init() {
	register(command{name: "status", usage: messages.HelpStatus, more: messages.StatusMore, run: runStatus})
}

// runStatus prints the state; it exits 3 when the agent is not running
// (the LSB/systemctl convention), so scripts can test it.
func runStatus(args []string) error {
	o, configFile, err := installFlags("status", args)
	if err != nil {
		return err
	}
	env, paths, _, serr := doctorSetup(o, configFile)
	fmt.Printf("Kyso %s (protocol %d)\n", engine.Version, protocol.Version)

	running := env.Agent() == nil
	state := env.PortProbe(env.Port)
	fmt.Println(say(messages.StatusAgent, say(yesNo(running, messages.StatusRunning, messages.StatusNotRunning))))
	portState := map[installer.PortState]messages.Text{
		installer.PortFree:  messages.StatusPortFree,
		installer.PortKyso:  messages.StatusPortKyso,
		installer.PortOther: messages.StatusPortOther,
	}[state]
	fmt.Println(say(messages.StatusPort, env.Port, say(portState)))
	fmt.Println(say(messages.StatusLocalSocket, rundir.SocketPath()))
	if running {
		printAgentStats()
	}

	for _, sc := range []struct {
		o     installer.Options
		scope messages.Text
	}{{env.User, messages.StatusForUser}, {env.System, messages.StatusForAll}} {
		rec, err := installer.ReadRecord(sc.o)
		switch {
		case err == nil:
			fmt.Println(say(messages.StatusInstalled, say(sc.scope), rec.Binary, rec.Version))
		case !errors.Is(err, installer.ErrNotInstalled):
			fmt.Println(say(messages.StatusRecord, say(sc.scope), err))
		}
	}
	fmt.Println(say(messages.StatusPolicy, paths.System, paths.User))
	if serr != nil {
		fmt.Printf("  ✘ %v\n", serr)
	}

	fmt.Println(say(messages.StatusModules))
	mods := env.Modules()
	if len(mods) == 0 {
		fmt.Println("  " + say(messages.StatusNoModules))
	}
	for _, m := range mods {
		if m.Loaded {
			fmt.Printf("  ✔ %s (%s)\n", m.Path, m.Source)
		} else {
			fmt.Printf("  ✘ %s (%s): %v\n", m.Path, m.Source, m.Err)
		}
	}
	fmt.Println(say(messages.StatusTokens))
	toks, err := env.Tokens()
	if err != nil {
		fmt.Printf("  %v\n", err)
	} else if len(toks) == 0 {
		fmt.Println("  " + say(messages.StatusNoTokens))
	}
	for _, t := range toks {
		fmt.Printf("  %s — %s %s (%s)\n", t.Label, t.Manufacturer, t.Model, t.SerialNumber)
	}
	if !running {
		return &exitError{code: 3}
	}
	return nil
}

func yesNo(b bool, yes, no messages.Text) messages.Text {
	if b {
		return yes
	}
	return no
}

// printAgentStats prints what the running agent says of itself (asked over
// its user-only local socket): goroutines, memory and open connections.
func printAgentStats() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := agent.QueryStats(ctx)
	if err != nil {
		fmt.Println("  " + say(messages.StatusStatsErr, err))
		return
	}
	rss := say(messages.StatusRSSUnknown)
	if st.RSS > 0 {
		rss = mib(st.RSS)
	}
	fmt.Println("  " + say(messages.StatusGoroutines, st.Goroutines, mib(st.HeapInUse), rss))
	fmt.Println("  " + say(messages.StatusConnections, st.Connections.WebSocket, st.Connections.Local))
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
