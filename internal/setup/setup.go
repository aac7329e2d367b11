// Package setup builds the engine as Kyso's processes run it — `kyso serve`,
// an in-process `kyso host`, and the bench's agent, which must do the same
// work per request: the PKCS#11 provider with the crash journal, the
// signing record, and the dialog lock and rate limit shared with every
// other Kyso process of the user. Only the prompter differs.
package setup

import (
	"github.com/rs/zerolog"

	"kyso.vn/kyso/engine"
	"kyso.vn/kyso/internal/audit"
	"kyso.vn/kyso/internal/limits"
	"kyso.vn/kyso/internal/logging"
	"kyso.vn/kyso/prompt"
	"kyso.vn/kyso/token/pkcs11"
)

// Engine builds the engine on the policy files and settings, asking the
// person through pr. done ends what the engine leaves behind on disk (its
// crash-journal marker); call it on the way out.
func Engine(paths engine.Paths, settings engine.Settings, pr prompt.Prompter, lang string, log zerolog.Logger) (eng *engine.Engine, done func(), err error) {
	// The crash journal: a module that crashed this process twice in a
	// row is skipped until the user re-enables it (`kyso modules`). It is
	// opened with the first module load, not before.
	policyMods, userMods := Modules(settings)
	p11 := pkcs11.New(pkcs11.Options{PolicyModules: policyMods, Modules: userMods, Log: log,
		OpenJournal: func() *pkcs11.Journal { return OpenJournal(log) }})
	done = func() {
		if err := p11.CloseJournal(); err != nil {
			log.Warn().Err(err).Msg("crash journal: closing the marker")
		}
	}
	o := engine.Options{
		Provider: p11,
		Prompter: pr,
		Paths:    paths,
		Log:      log,
		Audit:    openAudit(log),
		Lang:     lang,
	}
	shareLimits(&o, log)
	eng, err = engine.New(o)
	return eng, done, err
}

// Modules splits the settings' modules by who chose them: the system
// policy's, which only administrators' files may satisfy, or the user's.
func Modules(s engine.Settings) (policy, user []string) {
	if s.ModulesFromSystem {
		return s.Modules, nil
	}
	return nil, s.Modules
}

// OpenJournal opens the crash journal every Kyso process that calls into
// PKCS#11 modules shares (docs/tokens.md, "A module that crashes Kyso").
// Without it Kyso still runs; it just cannot skip a crashing module.
func OpenJournal(log zerolog.Logger) *pkcs11.Journal {
	dir, err := pkcs11.JournalDir()
	if err != nil {
		log.Error().Err(err).Msg("no crash journal: a crashing PKCS#11 module will not be skipped")
		return nil
	}
	j, err := pkcs11.OpenJournal(dir, log)
	if err != nil {
		log.Error().Err(err).Msg("crash journal incomplete: new crashes are not counted")
	}
	return j
}

// shareLimits gives the engine the one-dialog lock and the rate limit
// shared with every other Kyso process of this user (an in-process
// `kyso host` started before this agent, or while it could not be reached),
// so that a page cannot open a dialog in each nor escape the rate limit.
// When the runtime directory is unusable, the engine keeps its own, as
// before: degraded and said so, not fatal.
func shareLimits(o *engine.Options, log zerolog.Logger) {
	lim, err := limits.Shared(log)
	if err != nil {
		log.Error().Err(err).Msg("shared dialog lock and rate limit unavailable; this process keeps its own")
		return
	}
	o.Gate, o.Declines = lim.Gate, lim.Declines
}

// openAudit opens the signing record (audit.log beside kyso.log) for the
// life of the process; nil when it cannot (kyso.log still has every line).
func openAudit(log zerolog.Logger) *audit.Log {
	dir, err := logging.Dir()
	if err == nil {
		var a *audit.Log
		if a, _, err = audit.Open(dir); err == nil {
			return a
		}
	}
	log.Warn().Err(err).Msg("no audit log")
	return nil
}
