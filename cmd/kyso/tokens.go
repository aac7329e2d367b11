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
	"kyso.vn/kyso/token"
)

func init() {
	register(command{name: "tokens", run: runTokens})
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func runTokens(args []string) error {
	f := newFlags("tokens", "[--config FILE] [--module PATH]...")
	config := f.String("config", "", "the user config `file`")
	var mods stringList
	f.Var(&mods, "module", "a PKCS#11 module `path` to try first (repeatable)")
	words, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := noWords(words); err != nil {
		return err
	}
	cfgMods, err := configModules(*config)
	if err != nil {
		return err
	}
	// Cautious, like status and doctor: a module that crashed the agent is
	// not loaded here either, or `kyso tokens` would die where it died.
	p := token.NewPKCS11(token.PKCS11Options{Modules: append(mods, cfgMods...), Log: zerolog.Nop(),
		Journal: doctorJournal(), Cautious: true})
	return printTokens(os.Stdout, p)
}

// configModules is the `modules` key of the merged settings (system policy
// over the user's config), so `kyso tokens` tries what the agent tries.
func configModules(file string) ([]string, error) {
	paths, err := engine.DefaultPaths(file)
	if err != nil {
		return nil, err
	}
	s, err := engine.LoadSettings(paths)
	if err != nil {
		return nil, err
	}
	return s.Modules, nil
}

func printTokens(w io.Writer, p *token.PKCS11) error {
	fmt.Fprintln(w, say("tokens.modules"))
	for _, m := range p.Modules() {
		if m.Loaded {
			fmt.Fprintf(w, "  [%s] %s (%s)\n", say("tokens.loaded"), m.Path, m.Source)
		} else {
			fmt.Fprintf(w, "  [%s] %s (%s): %v\n", say("tokens.failed"), m.Path, m.Source, m.Err)
		}
	}
	toks, err := p.Inventory(context.Background())
	if err != nil {
		fmt.Fprintln(w, "\n"+say("tokens.noToken"))
		return &exitError{code: 1, msg: ""}
	}
	now := time.Now()
	for _, tk := range toks {
		fmt.Fprintf(w, "\n%s %q — %s %s, %s %s\n", say("tokens.token"), tk.Info.Label, tk.Info.Manufacturer, tk.Info.Model, say("tokens.serial"), tk.Info.SerialNumber)
		fmt.Fprintf(w, "  %s: %s\n", say("tokens.pin"), pinText(tk.PIN))
		if tk.Err != nil {
			fmt.Fprintf(w, "  %s: %v\n", say("tokens.readErr"), tk.Err)
			continue
		}
		if len(tk.Certificates) == 0 {
			fmt.Fprintln(w, "  "+say("tokens.noCert"))
		}
		for _, c := range tk.Certificates {
			x := c.Cert
			state := ""
			switch {
			case now.After(x.NotAfter):
				state = " — " + say("tokens.expired")
			case now.Before(x.NotBefore):
				state = " — " + say("tokens.notYet")
			}
			fmt.Fprintf(w, "  * %s\n", x.Subject.CommonName)
			fmt.Fprintf(w, "    %-14s %s\n", say("tokens.subject")+":", token.NameString(x.Subject))
			fmt.Fprintf(w, "    %-14s %s\n", say("tokens.issuer")+":", token.NameString(x.Issuer))
			fmt.Fprintf(w, "    %-14s %s → %s%s\n", say("tokens.valid")+":", x.NotBefore.Format(time.RFC3339), x.NotAfter.Format(time.RFC3339), state)
			fmt.Fprintf(w, "    %-14s %s\n", say("tokens.key")+":", token.KeyDescription(x))
			fmt.Fprintf(w, "    %-14s %s\n", say("tokens.certID")+":", c.ID)
		}
	}
	return nil
}

func pinText(s token.PINState) string {
	switch {
	case s.Locked:
		return say("tokens.pinLocked")
	case s.FinalTry:
		return say("tokens.pinFinal")
	case s.CountLow:
		return say("tokens.pinLow")
	}
	return say("tokens.pinOK")
}
