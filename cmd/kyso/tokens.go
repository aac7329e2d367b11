package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/engine"
	"kyso.vn/kyso/prompt"
	"kyso.vn/kyso/token"
)

func init() {
	register(command{name: "tokens", usage: "list PKCS#11 modules, tokens and signing certificates", run: runTokens})
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func runTokens(args []string) error {
	fs := flag.NewFlagSet("tokens", flag.ContinueOnError)
	config := fs.String("config", "", "user config file (default: the user config dir's kyso/config.json)")
	var mods stringList
	fs.Var(&mods, "module", "a PKCS#11 module to try first (repeatable)")
	if err := fs.Parse(args); err != nil {
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
	return printTokens(os.Stdout, p, tokensText(localeIsVietnamese()))
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

// localeIsVietnamese follows the dialogs' locale rule (prompt.Lang).
func localeIsVietnamese() bool { return prompt.Lang() == "vi" }

type tokText struct {
	modules, loaded, failed, noToken, token, serial, pin, noCert, subject, issuer, valid, expired, notYet, key, certID, readErr string
	pinOK, pinLow, pinFinal, pinLocked                                                                                          string
}

func tokensText(vi bool) tokText {
	if vi {
		return tokText{
			modules: "Mô-đun PKCS#11:", loaded: "đã nạp", failed: "lỗi", noToken: "Không có token nào được cắm.",
			token: "Token", serial: "số sê-ri", pin: "PIN", noCert: "(không có chứng thư ký số)",
			subject: "Chủ thể", issuer: "Nhà cung cấp", valid: "Hiệu lực", expired: "ĐÃ HẾT HẠN", notYet: "CHƯA CÓ HIỆU LỰC",
			key: "Khóa", certID: "certificateId", readErr: "không đọc được",
			pinOK: "bình thường", pinLow: "đã nhập sai", pinFinal: "còn 1 lần thử", pinLocked: "ĐÃ KHÓA",
		}
	}
	return tokText{
		modules: "PKCS#11 modules:", loaded: "loaded", failed: "failed", noToken: "No token is plugged in.",
		token: "Token", serial: "serial", pin: "PIN", noCert: "(no signing certificate)",
		subject: "Subject", issuer: "Issuer", valid: "Valid", expired: "EXPIRED", notYet: "NOT YET VALID",
		key: "Key", certID: "certificateId", readErr: "cannot read it",
		pinOK: "ok", pinLow: "a wrong PIN was entered", pinFinal: "one try left", pinLocked: "LOCKED",
	}
}

func printTokens(w io.Writer, p *token.PKCS11, t tokText) error {
	fmt.Fprintln(w, t.modules)
	for _, m := range p.Modules() {
		if m.Loaded {
			fmt.Fprintf(w, "  [%s] %s (%s)\n", t.loaded, m.Path, m.Source)
		} else {
			fmt.Fprintf(w, "  [%s] %s (%s): %v\n", t.failed, m.Path, m.Source, m.Err)
		}
	}
	toks, err := p.Inventory(context.Background())
	if err != nil {
		fmt.Fprintln(w, "\n"+t.noToken)
		return &exitError{code: 1, msg: ""}
	}
	now := time.Now()
	for _, tk := range toks {
		fmt.Fprintf(w, "\n%s %q — %s %s, %s %s\n", t.token, tk.Info.Label, tk.Info.Manufacturer, tk.Info.Model, t.serial, tk.Info.SerialNumber)
		fmt.Fprintf(w, "  %s: %s\n", t.pin, pinText(tk.PIN, t))
		if tk.Err != nil {
			fmt.Fprintf(w, "  %s: %v\n", t.readErr, tk.Err)
			continue
		}
		if len(tk.Certificates) == 0 {
			fmt.Fprintln(w, "  "+t.noCert)
		}
		for _, c := range tk.Certificates {
			x := c.Cert
			state := ""
			switch {
			case now.After(x.NotAfter):
				state = " — " + t.expired
			case now.Before(x.NotBefore):
				state = " — " + t.notYet
			}
			fmt.Fprintf(w, "  * %s\n", x.Subject.CommonName)
			fmt.Fprintf(w, "    %-14s %s\n", t.subject+":", token.NameString(x.Subject))
			fmt.Fprintf(w, "    %-14s %s\n", t.issuer+":", token.NameString(x.Issuer))
			fmt.Fprintf(w, "    %-14s %s → %s%s\n", t.valid+":", x.NotBefore.Format(time.RFC3339), x.NotAfter.Format(time.RFC3339), state)
			fmt.Fprintf(w, "    %-14s %s\n", t.key+":", token.KeyDescription(x))
			fmt.Fprintf(w, "    %-14s %s\n", t.certID+":", c.ID)
		}
	}
	return nil
}

func pinText(s token.PINState, t tokText) string {
	switch {
	case s.Locked:
		return t.pinLocked
	case s.FinalTry:
		return t.pinFinal
	case s.CountLow:
		return t.pinLow
	}
	return t.pinOK
}
