package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"kyso.vn/kyso/engine"
	"kyso.vn/kyso/messages"
)

func init() {
	register(command{name: "origins", usage: messages.HelpOrigins, more: messages.OriginsMore, run: runOrigins})
}

func runOrigins(args []string) error {
	f := newFlags("origins", messages.OriginsSynopsis)
	config := f.stringFlag("config", messages.ArgFile, messages.FlagConfig)
	words, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(words) == 0 {
		f.help(os.Stderr)
		return &exitError{code: 2}
	}
	paths, err := engine.DefaultPaths(*config)
	if err != nil {
		return err
	}
	switch {
	case words[0] == "list" && len(words) == 1:
		return listOrigins(os.Stdout, paths)
	case words[0] == "allow" && len(words) == 2:
		o, err := engine.ApproveOrigin(paths, words[1])
		if err != nil {
			return err
		}
		fmt.Println(say(messages.OriginsAllowed, o, paths.Approvals))
		return nil
	case words[0] == "revoke" && len(words) == 2:
		ok, err := engine.RevokeOrigin(paths, words[1])
		if err != nil {
			return err
		}
		if !ok {
			return revokeNotFound(paths, words[1])
		}
		fmt.Println(say(messages.OriginsRevoked, words[1]))
		return nil
	}
	f.help(os.Stderr)
	return &exitError{code: 2}
}

// revokeNotFound explains where an origin that is not an approval comes
// from, since only approvals can be revoked here.
func revokeNotFound(paths engine.Paths, origin string) error {
	list, err := engine.ListOrigins(paths)
	if err != nil {
		return err
	}
	for _, e := range list {
		if e.Origin == origin && !e.Blocked {
			switch e.Source {
			case "system policy":
				return fmt.Errorf("%s is allowed by the system policy (%s): only an administrator can change it", origin, paths.System)
			case "user config":
				return fmt.Errorf("%s is listed in allowedOrigins of %s: remove it there", origin, paths.User)
			}
		}
	}
	return errors.New(origin + " was not approved")
}

func listOrigins(w io.Writer, paths engine.Paths) error {
	list, err := engine.ListOrigins(paths)
	if err != nil {
		return err
	}
	s, err := engine.LoadSettings(paths)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ORIGIN\tSTATE\tSOURCE")
	for _, e := range list {
		state := "allowed"
		switch {
		case e.Blocked:
			state = "blocked"
		case e.Ignored:
			state = "ignored (userApproval locked off)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Origin, state, e.Source)
	}
	tw.Flush()
	approval := "on: other https sites are asked about in a dialog"
	if !s.UserApproval {
		approval = "off: only the sites listed as allowed may ask"
	}
	fmt.Fprintf(w, "\nuserApproval %s\nallowLocalhost %v\nfiles: %s, %s, %s\n",
		approval, s.AllowLocalhost, paths.System, paths.User, paths.Approvals)
	return nil
}
