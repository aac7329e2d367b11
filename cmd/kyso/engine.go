package main

import (
	"os"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/agent"
	"kyso.vn/kyso/engine"
	"kyso.vn/kyso/internal/logging"
	"kyso.vn/kyso/prompt"
	"kyso.vn/kyso/token"
)

// loadSettings reads the policy files. A broken one is logged and replaced
// by the defaults: the engine denies every origin while a policy file is
// broken and picks up the fix without a restart; the port and modules fall
// back to their defaults until then.
func loadSettings(config string, log zerolog.Logger) (engine.Paths, engine.Settings, error) {
	paths, err := engine.DefaultPaths(config)
	if err != nil {
		return engine.Paths{}, engine.Settings{}, err
	}
	settings, err := engine.LoadSettings(paths)
	if err != nil {
		log.Error().Err(err).Msg("policy or config file broken: every origin is denied until it is fixed")
		settings = engine.Settings{}
	}
	return paths, settings, nil
}

// newEngine builds the engine as both `kyso serve` and an in-process
// `kyso host` run it: the policy files, the PKCS#11 modules, native dialogs
// in the user's language, and the one-dialog lock and rate limit shared with
// every other Kyso process of this user.
//
// done ends what the engine leaves behind on disk (its crash-journal marker);
// call it on the way out.
func newEngine(paths engine.Paths, settings engine.Settings, lang string, log zerolog.Logger) (eng *engine.Engine, done func(), err error) {
	// The crash journal: a module that crashed this process twice in a
	// row is skipped until the user re-enables it (cmd/kyso/modules.go).
	// It is opened with the first module load, not before.
	p11 := token.NewPKCS11(token.PKCS11Options{Modules: settings.Modules, Log: log,
		OpenJournal: func() *token.Journal { return openJournal(log) }})
	done = func() {
		if err := p11.CloseJournal(); err != nil {
			log.Warn().Err(err).Msg("crash journal: closing the marker")
		}
	}
	o := engine.Options{
		Provider: p11,
		Prompter: prompt.Native(lang),
		Paths:    paths,
		Log:      log,
		Audit:    openAudit(log),
		Lang:     lang,
	}
	shareLimits(&o, log)
	eng, err = engine.New(o)
	return eng, done, err
}

// shareLimits gives the engine the one-dialog lock and the rate limit
// shared with every other Kyso process of this user (an in-process
// `kyso host` started before this agent, or while it could not be reached),
// so that a page cannot open a dialog in each nor escape the rate limit.
// When the runtime directory is unusable, the engine keeps its own, as
// before: degraded and said so, not fatal.
func shareLimits(o *engine.Options, log zerolog.Logger) {
	lim, err := agent.SharedLimits(log)
	if err != nil {
		log.Error().Err(err).Msg("shared dialog lock and rate limit unavailable; this process keeps its own")
		return
	}
	o.Gate, o.Declines = lim.Gate, lim.Declines
}

// openAudit opens the signing record (audit.log beside kyso.log) for the
// life of the process; nil when it cannot (kyso.log still has every line).
func openAudit(log zerolog.Logger) *zerolog.Logger {
	dir, err := logging.Dir()
	if err == nil {
		var audit zerolog.Logger
		if audit, _, err = logging.NewAudit(dir, "audit"); err == nil {
			audit = audit.With().Int("pid", os.Getpid()).Logger()
			return &audit
		}
	}
	log.Warn().Err(err).Msg("no audit log")
	return nil
}
