package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/agent"
	"kyso.vn/kyso/engine"
	"kyso.vn/kyso/installer"
	"kyso.vn/kyso/token"
)

func init() {
	register(command{name: "doctor", usage: "check everything that can go wrong, and say how to fix it", run: runDoctor})
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
		port = engine.DefaultPort
	}
	var modules []string
	if serr == nil {
		modules = settings.Modules
	}
	p := token.NewPKCS11(token.PKCS11Options{Modules: modules, Log: zerolog.Nop()})
	env := installer.Env{
		User: user, System: system, Binary: o.Binary, Port: port,
		Settings:  func() error { return serr },
		Modules:   p.Modules,
		Tokens:    func() ([]token.Info, error) { return inventoryInfos(p) },
		PortProbe: probePort,
		Agent:     pingAgent,
	}
	return env, paths, settings, serr
}

func inventoryInfos(p *token.PKCS11) ([]token.Info, error) {
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
func probePort(port int) installer.PortState {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if ln, err := net.Listen("tcp", addr); err == nil {
		ln.Close()
		return installer.PortFree
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

func runDoctor(args []string) error {
	o, configFile, err := installFlags("doctor", args)
	if err != nil {
		return err
	}
	env, _, _, _ := doctorSetup(o, configFile)
	vi := localeIsVietnamese()
	findings, ok := installer.Diagnose(env)
	printFindings(os.Stdout, findings, vi)
	if !ok {
		return &exitError{code: 1, msg: pick(vi, "có vấn đề cần sửa (xem ở trên)", "something needs fixing (see above)")}
	}
	fmt.Println(pick(vi, "Mọi thứ đều ổn.", "Everything looks fine."))
	return nil
}

func printFindings(w io.Writer, findings []installer.Finding, vi bool) {
	for _, f := range findings {
		mark := "✔"
		switch f.Level {
		case installer.LevelNote:
			mark = "•"
		case installer.LevelFault:
			mark = "✘"
		}
		if text := f.Problem.In(vi); text != "" {
			fmt.Fprintf(w, "%s %s\n", mark, text)
		}
		if fix := f.Fix.In(vi); fix != "" {
			fmt.Fprintf(w, "    → %s\n", fix)
		}
	}
}
