package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/signal"

	"kyso.vn/kyso/agent"
	"kyso.vn/kyso/engine"
	"kyso.vn/kyso/internal/logging"
	"kyso.vn/kyso/messages"
	"kyso.vn/kyso/protocol"
)

func init() {
	register(command{name: "serve", usage: messages.HelpServe, more: messages.ServeMore, run: runServe})
}

// runServe is `kyso serve [--config FILE]`. It runs in the foreground: the
// login autostart (systemd --user, launchd, a logon task) starts it and
// stops it with a signal.
func runServe(args []string) error {
	f := newFlags("serve", messages.ServeSynopsis)
	config := f.stringFlag("config", messages.ArgFile, messages.FlagConfig)
	words, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := noWords(words); err != nil {
		return err
	}

	// Signals first: a stop that comes while the agent starts (the login
	// session ending at once, a test that stops it as soon as it listens)
	// then ends it cleanly, socket removed, instead of killing it half set
	// up — the listeners below accept connections before Run starts.
	ctx, stop := signal.NotifyContext(context.Background(), shutdownSignals...)
	defer stop()

	log, logFile, err := logging.New("agent")
	defer logFile.Close()
	if err != nil {
		log.Warn().Err(err).Msg("no log file; logging to stderr only")
	}
	if err := noCoreDumps(); err != nil {
		log.Warn().Err(err).Msg("core dumps could not be turned off")
	}

	// The local socket first: it tells whether an agent already runs,
	// before this one reads anything or touches the port.
	local, err := agent.ListenLocal()
	if errors.Is(err, agent.ErrAlreadyRunning) {
		return &exitError{code: 3, msg: err.Error()}
	}
	if err != nil {
		// `kyso host` then runs the engine itself: degraded, not fatal.
		log.Error().Err(err).Msg("local socket unavailable; serving WebSocket only")
	}

	paths, settings, err := loadSettings(*config, log)
	if err != nil {
		closeAll(local, nil)
		return err
	}
	port := settings.Port
	if port == 0 {
		port = protocol.DefaultPort
	}

	ws, boundPort, err := agent.ListenWS(port)
	if err != nil || len(ws) < 2 {
		// A program that took 127.0.0.1 or [::1] first gets the pages'
		// requests: say which, with its owner and path.
		agent.LogPortHolders(log, port)
	}
	if err != nil {
		if local == nil {
			return fmt.Errorf("nothing to serve: %w", err)
		}
		// Another user's agent may hold the port on a shared machine;
		// the extension path over the local socket still works.
		log.Error().Err(err).Int("port", port).Msg("WebSocket port unavailable; serving the local socket only")
	}

	lang := messages.Lang()
	eng, done, err := newEngine(paths, settings, lang, log)
	if err != nil {
		closeAll(local, ws)
		return err
	}
	defer done()

	log.Info().Str("version", engine.Version).Int("port", boundPort).
		Str("config", paths.User).Str("policy", paths.System).Msg("kyso agent starting")
	return agent.New(agent.Options{Engine: eng, Log: log, Lang: lang}).
		Run(ctx, agent.Listeners{WS: ws, Port: boundPort, Local: local})
}

func closeAll(local net.Listener, ws []net.Listener) {
	if local != nil {
		local.Close()
	}
	for _, l := range ws {
		l.Close()
	}
}
