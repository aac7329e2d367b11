package main

import (
	"context"
	"os"
	"os/signal"
	"time"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/agent"
	"kyso.vn/kyso/engine"
	"kyso.vn/kyso/host"
	"kyso.vn/kyso/internal/logging"
	"kyso.vn/kyso/prompt"
)

func init() {
	register(command{name: "host", run: runHost})
}

// dialWait bounds the look for a running agent: its socket answers at once
// or not at all.
const dialWait = 2 * time.Second

// runHost is what the browser starts for the Kyso extension: with
// chrome-extension://<id>/ (Chrome, Edge, Chromium) or a manifest path and
// the add-on id (Firefox). It relays to the running agent, or runs the engine
// itself when no agent runs, until the browser closes the port.
func runHost(args []string) error {
	// The browser passes its own arguments (Chrome on Windows adds
	// --parent-window=N): only a first -h/--help is ours.
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		_, err := newFlags("host", "chrome-extension://ID/ | MANIFEST.json "+host.FirefoxID).parse(args[:1])
		return err
	}
	caller, err := host.CheckCaller(args)
	if err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	// Before anything else can print: stdout belongs to the protocol.
	out, err := host.ProtocolStdout()
	if err != nil {
		return err
	}
	defer out.Close()

	log, logFile, err := logging.New("host")
	defer logFile.Close()
	if err != nil {
		log.Warn().Err(err).Msg("no log file; logging to stderr only")
	}
	log = log.With().Str("caller", caller.String()).Int("pid", os.Getpid()).Logger()

	ctx, stop := signal.NotifyContext(context.Background(), shutdownSignals...)
	defer stop()

	var backend host.Backend
	dctx, cancel := context.WithTimeout(ctx, dialWait)
	conn, err := agent.DialLocal(dctx)
	cancel()
	if err == nil {
		relay := host.NewRelay(conn, log)
		// Closing the connection is what cancels pending operations in
		// the agent, so it must happen on every way out.
		defer relay.Close()
		backend = relay
		log.Info().Msg("relaying to the agent")
	} else {
		log.Info().Err(err).Msg("no agent running; running the engine in-process")
		eng, done, err := inProcessEngine(log)
		if err != nil {
			log.Error().Err(err).Msg("cannot start the engine")
			return err
		}
		defer done()
		backend = eng
	}
	if err := host.Run(ctx, os.Stdin, out, backend, log); err != nil {
		log.Error().Err(err).Msg("host stopped")
		return err
	}
	log.Info().Msg("browser closed the port")
	return nil
}

// inProcessEngine is the engine as `kyso serve` builds it, for when no agent
// runs: same policy files, same modules, native dialogs, same shared
// one-dialog lock and rate limit.
func inProcessEngine(log zerolog.Logger) (*engine.Engine, func(), error) {
	paths, settings, err := loadSettings("", log)
	if err != nil {
		return nil, nil, err
	}
	return newEngine(paths, settings, prompt.Lang(), log)
}
