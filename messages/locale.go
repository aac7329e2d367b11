package messages

import "strings"

// Lang returns the language for user-facing text: "vi" or "en".
//
// The rule: Vietnamese when the user's locale is Vietnamese, or when no
// locale is set at all (or only "C"/"POSIX", as for a service started without
// a session environment) — Kyso's users are Vietnamese first. English when a
// locale is explicitly set to another language.
// The locale comes from LC_ALL, LC_MESSAGES, LANG (the first one set, as
// POSIX says) on Linux, from the system's preferred language
// (AppleLanguages) and then those variables on macOS (locale_darwin.go), and
// from the Windows user settings on Windows (locale_windows.go).
func Lang() string {
	return langOf(userLocales())
}

// langOf applies the rule to the locale names found, most important first.
// An empty list means nothing is set.
func langOf(locales []string) string {
	for _, l := range locales {
		l = strings.ToLower(strings.TrimSpace(l))
		if l == "" || l == "c" || l == "posix" || strings.HasPrefix(l, "c.") {
			continue
		}
		if l == "vi" || strings.HasPrefix(l, "vi_") || strings.HasPrefix(l, "vi-") || strings.HasPrefix(l, "vi.") {
			return "vi"
		}
		return "en"
	}
	return "vi"
}

// parseAppleLanguages reads `defaults read -g AppleLanguages`, an old-style
// property list array: ( "vi-VN", "en-VN" ), quotes optional for plain
// words, one item per line or all on one. Used on macOS (locale_darwin.go);
// here so that it is tested on every OS.
func parseAppleLanguages(out string) []string {
	out = strings.TrimSpace(out)
	if !strings.HasPrefix(out, "(") || !strings.HasSuffix(out, ")") {
		return nil
	}
	var langs []string
	for _, item := range strings.Split(out[1:len(out)-1], ",") {
		item = strings.Trim(strings.TrimSpace(item), `"`)
		if item != "" && !strings.ContainsAny(item, " \t\"()") {
			langs = append(langs, item)
		}
	}
	return langs
}
