// Command agentbench is the Kyso agent for benchmarks only: the same code as
// `kyso serve` (engine, token layer, agent transports, logging) with one
// difference, the prompter. `kyso serve` asks the person through native
// dialogs; agentbench answers from prompt/prompttest with the SoftHSM test
// tokens' PIN, so that a benchmark can sign thousands of times unattended.
// It is built by `make bench` into bin/bench and is never shipped or
// installed; the shipped binary has no such path (DESIGN: no backdoor).
//
// It serves the WebSocket on -port (0: a free one) and the
// local socket at rundir.SocketPath() (so set XDG_RUNTIME_DIR), prints
// "ready <port>" on stdout once both listen, and stops on SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"kyso.vn/kyso/agent"
	"kyso.vn/kyso/engine"
	"kyso.vn/kyso/internal/logging"
	"kyso.vn/kyso/internal/setup"
	"kyso.vn/kyso/prompt"
	"kyso.vn/kyso/prompt/prompttest"
)

// testPIN is the user PIN of the tokens testdata/provision.sh makes.
const testPIN = "123456"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "agentbench:", err)
		os.Exit(1)
	}
}

func run() error {
	config := flag.String("config", "", "the config file (as kyso serve --config)")
	system := flag.String("system", "", "the system policy file (default: a path that does not exist)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile here until stopped")
	port := flag.Int("port", 0, "WebSocket port (0: a free one; the config's port is not used, so that several bench agents run at once)")
	flag.Parse()
	if *config == "" {
		return fmt.Errorf("-config is required")
	}

	log, logFile, err := logging.New("agent")
	defer logFile.Close()
	if err != nil {
		log.Warn().Err(err).Msg("no log file; logging to stderr only")
	}
	paths, err := engine.DefaultPaths(*config)
	if err != nil {
		return err
	}
	// The machine's own /etc/kyso/policy.json must not change the run.
	paths.System = *system
	if paths.System == "" {
		paths.System = *config + ".no-system-policy"
	}
	settings, err := engine.LoadSettings(paths)
	if err != nil {
		return err
	}

	local, err := agent.ListenLocal()
	if err != nil {
		return err
	}
	ws, bound, err := agent.ListenWS(*port)
	if err != nil {
		local.Close()
		return err
	}

	// The only difference from `kyso serve`: a scripted prompter, which
	// stamps the time each PIN dialog is answered. With the PIN cached (a
	// system policy's pinCacheSeconds) each operation has the confirmation
	// dialog instead, which it answers at once.
	script := prompttest.New().
		Always(prompttest.KindPIN, prompttest.PIN(testPIN)).
		Always(prompttest.KindConfirm, prompttest.Sign()).
		Always(prompttest.KindApprove, prompttest.Approve(prompt.AllowOnce)).
		Always(prompttest.KindPick, prompttest.Pick(0))
	script.Forget = true // tens of thousands of confirmations in a run
	pr := stamped{script}
	// Built by the code that builds `kyso serve`'s engine (internal/setup):
	// the crash journal, the signing record, the shared dialog lock and
	// rate limit, so that each request does the same work.
	eng, done, err := setup.Engine(paths, settings, pr, "en", log)
	if err != nil {
		return err
	}
	defer done()

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go memStatsOnSignal(ctx)
	fmt.Printf("ready %d\n", bound)
	return agent.New(agent.Options{Engine: eng, Log: log, Lang: "en"}).
		Run(ctx, agent.Listeners{WS: ws, Port: bound, Local: local})
}

// memStatsOnSignal prints the Go runtime's memory, one JSON line on stdout,
// at each SIGUSR1: the bench tells Go's share of the RSS from the C side's
// (PKCS#11 module, OpenSSL, libc).
func memStatsOnSignal(ctx context.Context) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	defer signal.Stop(sig)
	for {
		select {
		case <-ctx.Done():
			return
		case <-sig:
		}
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		b, _ := json.Marshal(map[string]uint64{
			"heapInuse":    m.HeapInuse,
			"heapIdle":     m.HeapIdle,
			"heapReleased": m.HeapReleased,
			"stackInuse":   m.StackInuse,
			"goSys":        m.Sys,
			"goroutines":   uint64(runtime.NumGoroutine()),
			"numGC":        uint64(m.NumGC),
		})
		fmt.Println(string(b))
	}
}

// stamped prints "pin <Unix ns>" on stdout when a PIN dialog is answered:
// the bench measures an operation from there, as a person's answer starts
// it (the time a person takes is not Kyso's). One Printf is one write, so
// the lines never interleave with the memory lines.
type stamped struct{ prompt.Prompter }

func (s stamped) PIN(ctx context.Context, req prompt.PINRequest) ([]byte, error) {
	pin, err := s.Prompter.PIN(ctx, req)
	fmt.Printf("pin %d\n", time.Now().UnixNano())
	return pin, err
}
