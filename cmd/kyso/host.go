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
	"kyso.vn/kyso/internal/extid"
	"kyso.vn/kyso/internal/logging"
	"kyso.vn/kyso/messages"
)

func init() {
	register(command{name: "host", usage: messages.HelpHost, more: messages.HostMore, run: runHost})
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
		_, err := newFlags("host", messages.HostSynopsis.With(extid.Kyso.Firefox.ID)).parse(args[:1])
		return err
	}
	// The system policy's extensionIds may start the host too (a
	// self-hosted build packed with the admin's key). A broken policy adds
	// none; the engine then denies every origin and says why.
	policyIDs, _ := engine.SystemExtensionIDs(engine.SystemPolicyPath())
	caller, err := host.CheckCaller(args, policyIDs)
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
	if err := noCoreDumps(); err != nil {
		log.Warn().Err(err).Msg("core dumps could not be turned off")
	}

	ctx, stop := signal.NotifyContext(context.Background(), shutdownSignals...)
	defer stop()

	var backend host.Backend
	relay, err := dialAgent(ctx, log)
	if err == nil {
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

// dialAgent connects to the running agent's local socket and checks that it
// is of this version (an agent of another version, after an upgrade, is
// treated as none: the host runs the engine itself).
func dialAgent(ctx context.Context, log zerolog.Logger) (*host.Relay, error) {
	ctx, cancel := context.WithTimeout(ctx, dialWait)
	defer cancel()
	conn, err := agent.DialLocal(ctx)
	if err != nil {
		return nil, err
	}
	relay, err := host.NewRelay(ctx, conn, log)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return relay, nil
}

// inProcessEngine is the engine as `kyso serve` builds it, for when no agent
// runs: same policy files, same modules, native dialogs, same shared
// one-dialog lock and rate limit.
func inProcessEngine(log zerolog.Logger) (*engine.Engine, func(), error) {
	paths, settings, err := loadSettings("", log)
	if err != nil {
		return nil, nil, err
	}
	return newEngine(paths, settings, messages.Lang(), log)
}
