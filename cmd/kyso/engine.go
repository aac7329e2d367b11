package main

import (
	"github.com/rs/zerolog"

	"kyso.vn/kyso/engine"
	"kyso.vn/kyso/internal/setup"
	"kyso.vn/kyso/prompt"
)

// loadSettings reads the policy files. A broken one is logged and replaced
// by the defaults: the engine denies every origin while a policy file is
// broken and picks up the fix without a restart; the port and modules fall
// back to their defaults until then. Keys of the user's config that only
// the system policy may set are logged by the engine when it reads the
// files (engine.Settings.IgnoredUserKeys).
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
// `kyso host` run it (internal/setup), with native dialogs in the user's
// language. done ends what it leaves on disk; call it on the way out.
func newEngine(paths engine.Paths, settings engine.Settings, lang string, log zerolog.Logger) (eng *engine.Engine, done func(), err error) {
	return setup.Engine(paths, settings, prompt.Native(lang), lang, log)
}
