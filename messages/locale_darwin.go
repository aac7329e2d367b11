package messages

import (
	"context"
	"os/exec"
	"time"
)

// userLocales: on macOS the person's language is the first of System
// Settings' preferred languages (AppleLanguages). A LaunchAgent — how the
// agent starts at login — gets no LANG at all, and a terminal's LANG
// follows the region, not the language. Like on Windows, either being
// Vietnamese is enough: Vietnamese users first.
func userLocales() []string {
	locales := appleLanguages()
	if len(locales) > 1 {
		locales = locales[:1]
	}
	env := envLocales()
	for _, l := range append(append([]string{}, locales...), env...) {
		if langOf([]string{l}) == "vi" {
			return []string{l}
		}
	}
	return append(locales, env...)
}

// appleLanguages reads the global AppleLanguages preference with
// defaults(1), which needs no cgo (CFPreferences would).
func appleLanguages() []string {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/usr/bin/defaults", "read", "-g", "AppleLanguages").Output()
	if err != nil {
		return nil
	}
	return parseAppleLanguages(string(out))
}
