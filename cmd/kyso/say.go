package main

import (
	"kyso.vn/kyso/installer"
	"kyso.vn/kyso/prompt"
)

// say is the command line's text for key "cli.<key>" in the user's language
// (prompt.Lang: Vietnamese first), from the one table in prompt/messages.go.
func say(key string, args ...any) string {
	return prompt.T(prompt.Lang(), "cli."+key, args...)
}

// sayBoth is "cli.<key>" in both languages, for an installer.Finding (its
// reader picks the language).
func sayBoth(key string, args ...any) installer.Text {
	return installer.Text{VI: prompt.T("vi", "cli."+key, args...), EN: prompt.T("en", "cli."+key, args...)}
}

// inVietnamese tells installer.Text.In which language the user reads.
func inVietnamese() bool { return prompt.Lang() == "vi" }

// sayOptional is say, or "" when the table has no such key.
func sayOptional(key string) string {
	if s := say(key); s != "cli."+key {
		return s
	}
	return ""
}
