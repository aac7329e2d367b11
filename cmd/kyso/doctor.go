package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/agent"
	"kyso.vn/kyso/engine"
	"kyso.vn/kyso/installer"
	"kyso.vn/kyso/internal/setup"
	"kyso.vn/kyso/messages"
	"kyso.vn/kyso/protocol"
	"kyso.vn/kyso/token"
	"kyso.vn/kyso/token/pkcs11"
)

func init() {
	register(command{name: "doctor", usage: messages.HelpDoctor, more: messages.DoctorMore, run: runDoctor})
}

// doctorSetup gathers what status and doctor look at. Under --root the
// system policy is read from inside DIR too; the user's config is where
// --config or the user config dir says.
func doctorSetup(o installer.Options, configFile string) (installer.Env, engine.Paths, engine.Settings, error) {
	user := o
	user.System, user.Runner = false, nil
	system := o
	system.System, system.Runner = true, nil
	paths, perr := engine.DefaultPaths(configFile)
	if perr == nil {
		paths.System = o.Real(paths.System)
	}
	settings, serr := engine.LoadSettings(paths)
	if perr != nil {
		serr = perr
	}
	port := settings.Port
	if serr != nil || port == 0 {
		port = protocol.DefaultPort
	}
	var policyMods, userMods []string
	if serr == nil {
		policyMods, userMods = setup.Modules(settings)
	}
	// Cautious: the diagnostics skip a module that crashed Kyso even once,
	// so that they can still say which one it was.
	p := pkcs11.New(pkcs11.Options{PolicyModules: policyMods, Modules: userMods, Log: zerolog.Nop(),
		Journal: doctorJournal(), Cautious: true})
	env := installer.Env{
		User: user, System: system, Binary: o.Binary, Port: port,
		Settings: func() error { return serr },
		IgnoredKeys: func() []installer.IgnoredKey {
			var out []installer.IgnoredKey
			for _, k := range settings.IgnoredUserKeys {
				out = append(out, installer.IgnoredKey{Where: k.Where(), Key: k.Key})
			}
			return out
		},
		Modules:     p.Modules,
		Tokens:      func() ([]token.Info, error) { return inventoryInfos(p) },
		PortProbe:   probePort,
		PortHolders: foreignPortHolders,
		Agent:       pingAgent,
		Dialog:      installer.DialogAvailable,
	}
	return env, paths, settings, serr
}

var (
	doctorJournalOnce sync.Once
	doctorJ           *pkcs11.Journal
)

// doctorJournal is the crash journal as status and doctor read it (once
// per process).
func doctorJournal() *pkcs11.Journal {
	doctorJournalOnce.Do(func() { doctorJ = setup.OpenJournal(zerolog.Nop()) })
	return doctorJ
}

func inventoryInfos(p *pkcs11.Provider) ([]token.Info, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	inv, err := p.Inventory(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]token.Info, 0, len(inv))
	for _, t := range inv {
		out = append(out, t.Info)
	}
	return out, nil
}

// pingAgent: the agent answers on its local socket. Connecting is enough
// (no request is sent), so this needs nothing from the protocol.
func pingAgent() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := agent.DialLocal(ctx)
	if err != nil {
		return err
	}
	return c.Close()
}

// probePort tells who listens on the WebSocket port. A Kyso agent answers a
// request without an Origin header with 403 "forbidden origin" (DESIGN:
// origin missing); anything else listening there is another program.
//
// Where the OS names the listening processes (PortHolders), one that is
// not a Kyso agent of this user makes the port another program's whatever
// it answers: any program can answer like Kyso.
func probePort(port int) installer.PortState {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if ln, err := net.Listen("tcp", addr); err == nil {
		ln.Close()
		return installer.PortFree
	}
	if len(foreignPortHolders(port)) > 0 {
		return installer.PortOther
	}
	cl := &http.Client{Timeout: 3 * time.Second}
	resp, err := cl.Get("http://" + addr + "/v1")
	if err != nil {
		return installer.PortOther
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode == http.StatusForbidden && strings.Contains(string(body), "forbidden origin") {
		return installer.PortKyso
	}
	return installer.PortOther
}

// foreignPortHolders are the listeners on port that the OS names and that
// are not a Kyso agent of this user (issue 16, finding 6).
func foreignPortHolders(port int) []installer.PortHolder {
	hs, _ := agent.PortHolders(port)
	var out []installer.PortHolder
	for _, h := range hs {
		if !h.IsKyso() {
			out = append(out, installer.PortHolder{Exe: h.Exe, PID: h.PID, User: h.User})
		}
	}
	return out
}

func runDoctor(args []string) error {
	f := newFlags("doctor", messages.DoctorSynopsis)
	sc := addScopeFlags(f)
	asJSON := f.boolFlag("json", messages.FlagJSON)
	reenable := f.stringFlag("reenable", messages.ArgPath, messages.FlagReenable)
	words, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := noWords(words); err != nil {
		return err
	}
	if *reenable != "" {
		// The same as `kyso modules enable PATH`, where a person reading
		// doctor's advice may look for it.
		return runModules([]string{"enable", *reenable})
	}
	o, err := sc.options()
	if err != nil {
		return err
	}
	env, _, _, _ := doctorSetup(o, *sc.config)
	defer doctorJournal().Close()
	// Modules skipped for crashing get a finding of their own below, in
	// the user's language, instead of CheckModules' generic note.
	modules := env.Modules
	env.Modules = func() []token.ModuleStatus {
		var out []token.ModuleStatus
		for _, m := range modules() {
			var ce *pkcs11.CrashError
			if !errors.As(m.Err, &ce) {
				out = append(out, m)
			}
		}
		return out
	}
	findings, ok := installer.Diagnose(env)
	findings, crashOK := withCrashFindings(findings, doctorJournal().Records())
	ok = ok && crashOK
	if *asJSON {
		if err := writeDoctorJSON(os.Stdout, findings, ok); err != nil {
			return err
		}
		if !ok {
			return &exitError{code: 1}
		}
		return nil
	}
	printFindings(os.Stdout, findings, messages.Lang())
	if !ok {
		return &exitError{code: 1, msg: say(messages.DoctorFailed)}
	}
	fmt.Println(say(messages.DoctorOK))
	return nil
}

// withCrashFindings puts a finding for each module the crash journal knows
// right after the module findings. ok is false when one is disabled.
func withCrashFindings(findings []installer.Finding, recs map[string]pkcs11.ModuleRecord) ([]installer.Finding, bool) {
	if len(recs) == 0 {
		return findings, true
	}
	ok := true
	var crash []installer.Finding
	for _, p := range pkcs11.SortedPaths(recs) {
		f := crashFinding(p, recs[p])
		if f.Level == installer.LevelFault {
			ok = false
		}
		crash = append(crash, f)
	}
	at := 0
	for i, f := range findings {
		if f.Check == "module" || f.Check == "token" || f.Check == "settings" {
			at = i + 1
		}
	}
	return slices.Insert(findings, at, crash...), ok
}

func printFindings(w io.Writer, findings []installer.Finding, lang string) {
	for _, f := range findings {
		mark := "✔"
		switch f.Level {
		case installer.LevelNote:
			mark = "•"
		case installer.LevelFault:
			mark = "✘"
		}
		if text := f.Problem.In(lang); text != "" {
			fmt.Fprintf(w, "%s %s\n", mark, text)
		}
		if fix := f.Fix.In(lang); fix != "" {
			fmt.Fprintf(w, "    → %s\n", fix)
		}
	}
}
