package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/installer"
	"kyso.vn/kyso/internal/setup"
	"kyso.vn/kyso/messages"
	"kyso.vn/kyso/token/pkcs11"
)

func init() {
	register(command{name: "modules", usage: messages.HelpModules, run: runModules})
}

// runModules is `kyso modules` (list what the crash journal knows) and
// `kyso modules enable PATH` (forget a module's crashes: it is loaded
// again at the next request, or the agent's next start).
func runModules(args []string) error {
	args, err := newFlags("modules", messages.ModulesSynopsis).parse(args)
	if err != nil {
		return err
	}
	j := setup.OpenJournal(zerolog.Nop())
	if j == nil {
		return errors.New(say(messages.ModulesNoJournal))
	}
	defer j.Close()
	switch {
	case len(args) == 0 || args[0] == "list":
		printCrashRecords(os.Stdout, j.Records(), messages.Lang())
		return nil
	case args[0] == "enable" && len(args) == 2:
		found, err := j.Enable(args[1])
		if err != nil {
			return err
		}
		if !found {
			return &exitError{code: 1, msg: say(messages.ModulesNotDisabled, args[1])}
		}
		fmt.Println(say(messages.ModulesEnabled, args[1]))
		return nil
	}
	return &exitError{code: 2, msg: say(messages.ModulesBadUsage)}
}

func printCrashRecords(w io.Writer, recs map[string]pkcs11.ModuleRecord, lang string) {
	if len(recs) == 0 {
		fmt.Fprintln(w, say(messages.ModulesNone))
		return
	}
	for _, p := range pkcs11.SortedPaths(recs) {
		f := crashFinding(p, recs[p])
		fmt.Fprintln(w, f.Problem.In(lang))
		if fix := f.Fix.In(lang); fix != "" {
			fmt.Fprintf(w, "    → %s\n", fix)
		}
	}
}

// crashFinding describes one module the journal knows: a fault when it is
// disabled (the user's token may be unusable until it is fixed), a note
// while it crashed once.
func crashFinding(path string, r pkcs11.ModuleRecord) installer.Finding {
	when := ""
	if !r.At.IsZero() {
		when = ", " + r.At.Local().Format("2006-01-02 15:04")
	}
	if r.Disabled {
		return installer.Finding{Check: "module-crash", Level: installer.LevelFault,
			Problem: messages.ModulesDisabled.With(path, r.Crashes, r.Call, when),
			Fix:     messages.ModulesDisabledFix.With(path)}
	}
	return installer.Finding{Check: "module-crash", Level: installer.LevelNote,
		Problem: messages.ModulesCrashedOnce.With(path, r.Call, when)}
}
