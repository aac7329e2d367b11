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
	register(command{name: "status", run: runStatus})
}

// runStatus prints the state; it exits 3 when the agent is not running
// (the LSB/systemctl convention), so scripts can test it.
func runStatus(args []string) error {
	o, configFile, err := installFlags("status", args)
	if err != nil {
		return err
	}
	env, paths, _, serr := doctorSetup(o, configFile)
	fmt.Printf("Kyso %s (protocol 1)\n", engine.Version)

	running := env.Agent() == nil
	state := env.PortProbe(env.Port)
	fmt.Println(say("status.agent", say(yesNo(running, "status.running", "status.notRunning"))))
	portState := map[installer.PortState]string{
		installer.PortFree:  "status.portFree",
		installer.PortKyso:  "status.portKyso",
		installer.PortOther: "status.portOther",
	}[state]
	fmt.Println(say("status.port", env.Port, say(portState)))
	fmt.Println(say("status.localSocket", agent.SocketPath()))
	if running {
		printAgentStats()
	}

	for _, sc := range []struct {
		o     installer.Options
		scope string
	}{{env.User, "status.forUser"}, {env.System, "status.forAll"}} {
		rec, err := installer.ReadRecord(sc.o)
		switch {
		case err == nil:
			fmt.Println(say("status.installed", say(sc.scope), rec.Binary, rec.Version))
		case !errors.Is(err, installer.ErrNotInstalled):
			fmt.Println(say("status.record", say(sc.scope), err))
		}
	}
	fmt.Println(say("status.policy", paths.System, paths.User))
	if serr != nil {
		fmt.Printf("  ✘ %v\n", serr)
	}

	fmt.Println(say("status.modules"))
	mods := env.Modules()
	if len(mods) == 0 {
		fmt.Println("  " + say("status.noModules"))
	}
	for _, m := range mods {
		if m.Loaded {
			fmt.Printf("  ✔ %s (%s)\n", m.Path, m.Source)
		} else {
			fmt.Printf("  ✘ %s (%s): %v\n", m.Path, m.Source, m.Err)
		}
	}
	fmt.Println(say("status.tokens"))
	toks, err := env.Tokens()
	if err != nil {
		fmt.Printf("  %v\n", err)
	} else if len(toks) == 0 {
		fmt.Println("  " + say("status.noTokens"))
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
func printAgentStats() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := agent.QueryStats(ctx)
	if err != nil {
		fmt.Println("  " + say("status.statsErr", err))
		return
	}
	rss := say("status.rssUnknown")
	if st.RSS > 0 {
		rss = mib(st.RSS)
	}
	fmt.Println("  " + say("status.goroutines", st.Goroutines, mib(st.HeapInUse), rss))
	fmt.Println("  " + say("status.connections", st.Connections.WebSocket, st.Connections.Local))
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
