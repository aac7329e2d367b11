package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/engine"
	"kyso.vn/kyso/internal/setup"
	"kyso.vn/kyso/messages"
	"kyso.vn/kyso/token"
	"kyso.vn/kyso/token/pkcs11"
)

func init() {
	register(command{name: "tokens", usage: messages.HelpTokens, run: runTokens})
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func runTokens(args []string) error {
	f := newFlags("tokens", messages.TokensSynopsis)
	config := f.stringFlag("config", messages.ArgFile, messages.FlagConfig)
	var mods stringList
	f.varFlag(&mods, "module", messages.ArgPath, messages.FlagModule)
	words, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := noWords(words); err != nil {
		return err
	}
	policyMods, cfgMods, err := configModules(*config)
	if err != nil {
		return err
	}
	// Cautious, like status and doctor: a module that crashed the agent is
	// not loaded here either, or `kyso tokens` would die where it died.
	p := pkcs11.New(pkcs11.Options{PolicyModules: policyMods, Modules: append(mods, cfgMods...), Log: zerolog.Nop(),
		Journal: doctorJournal(), Cautious: true})
	return printTokens(os.Stdout, p)
}

// configModules is the `modules` key of the merged settings (system policy
// over the user's config), so `kyso tokens` tries what the agent tries,
// split as setup.Modules splits it.
func configModules(file string) (policy, user []string, err error) {
	paths, err := engine.DefaultPaths(file)
	if err != nil {
		return nil, nil, err
	}
	s, err := engine.LoadSettings(paths)
	if err != nil {
		return nil, nil, err
	}
	policy, user = setup.Modules(s)
	return policy, user, nil
}

func printTokens(w io.Writer, p *pkcs11.Provider) error {
	fmt.Fprintln(w, say(messages.TokensModules))
	for _, m := range p.Modules() {
		if m.Loaded {
			fmt.Fprintf(w, "  [%s] %s (%s)\n", say(messages.TokensLoaded), m.Path, m.Source)
		} else {
			fmt.Fprintf(w, "  [%s] %s (%s): %v\n", say(messages.TokensFailed), m.Path, m.Source, m.Err)
		}
	}
	toks, err := p.Inventory(context.Background())
	if err != nil {
		fmt.Fprintln(w, "\n"+say(messages.TokensNoToken))
		return &exitError{code: 1, msg: ""}
	}
	now := time.Now()
	for _, tk := range toks {
		fmt.Fprintf(w, "\n%s %q — %s %s, %s %s\n", say(messages.TokensToken), tk.Info.Label, tk.Info.Manufacturer, tk.Info.Model, say(messages.TokensSerial), tk.Info.SerialNumber)
		fmt.Fprintf(w, "  %s: %s\n", say(messages.TokensPIN), pinText(tk.PIN))
		if tk.Err != nil {
			fmt.Fprintf(w, "  %s: %v\n", say(messages.TokensReadErr), tk.Err)
			continue
		}
		if len(tk.Certificates) == 0 {
			fmt.Fprintln(w, "  "+say(messages.TokensNoCert))
		}
		for _, c := range tk.Certificates {
			x := c.Cert
			state := ""
			switch {
			case now.After(x.NotAfter):
				state = " — " + say(messages.TokensExpired)
			case now.Before(x.NotBefore):
				state = " — " + say(messages.TokensNotYet)
			}
			fmt.Fprintf(w, "  * %s\n", x.Subject.CommonName)
			fmt.Fprintf(w, "    %-14s %s\n", say(messages.TokensSubject)+":", token.NameString(x.Subject))
			fmt.Fprintf(w, "    %-14s %s\n", say(messages.TokensIssuer)+":", token.NameString(x.Issuer))
			fmt.Fprintf(w, "    %-14s %s → %s%s\n", say(messages.TokensValid)+":", x.NotBefore.Format(time.RFC3339), x.NotAfter.Format(time.RFC3339), state)
			fmt.Fprintf(w, "    %-14s %s\n", say(messages.TokensKey)+":", token.KeyDescription(x))
			fmt.Fprintf(w, "    %-14s %s\n", say(messages.TokensCertID)+":", c.ID)
		}
	}
	return nil
}

func pinText(s token.PINState) string {
	switch {
	case s.Locked:
		return say(messages.TokensPINLocked)
	case s.FinalTry:
		return say(messages.TokensPINFinal)
	case s.CountLow:
		return say(messages.TokensPINLow)
	}
	return say(messages.TokensPINOK)
}
