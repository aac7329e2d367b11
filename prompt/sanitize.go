package prompt

import (
	"strings"
	"unicode"
)

// Limits on text shown in a dialog, in screen columns (an East Asian wide
// character takes two). The protocol caps a description at 256 characters;
// names come from the token (certificate names, token labels) and are
// capped so a hostile certificate cannot push the dialog's real lines off
// the screen. Origins have their own rule (showOrigin).
const (
	maxDescription = 256
	maxName        = 120
)

// maxMarks is how many combining marks may follow one letter. Vietnamese
// needs at most two (ệ = e + circumflex + dot below, in decomposed form); a
// long stack ("Zalgo" text) draws over the lines above and below it.
const maxMarks = 2

// oneLine makes text that came from outside (the page's description, the
// origin, certificate and token names) safe to place on one line of a
// dialog, on every OS, before any per-OS escaping:
//   - invalid UTF-8 becomes U+FFFD;
//   - control characters (newline, tab, CR, ESC…), line and paragraph
//     separators, format characters (bidi overrides like U+202E that reorder
//     what is shown, zero-width characters) and characters that draw as a
//     blank without being spaces become a space; runs of spaces become one,
//     so a page cannot start a line of its own by padding;
//   - more than maxMarks combining marks in a row are dropped;
//   - the result is cut at max columns (runeColumns: wide characters
//     count two), marked with "…".
//
// A page therefore cannot fake a dialog line such as "Trang web:
// https://bank.gov.vn": what it writes stays on the description's line.
func oneLine(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	n, marks := 0, 0
	space := false
	for _, r := range s {
		if blank(r) {
			space = b.Len() > 0
			continue
		}
		if unicode.In(r, unicode.Mn, unicode.Me) {
			if marks++; marks > maxMarks {
				continue
			}
		} else {
			marks = 0
		}
		w := runeColumns(r)
		if space {
			w++
		}
		if n+w > max && w > 0 {
			b.WriteString("…")
			return b.String()
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
		n += w
	}
	return b.String()
}

// blank reports whether r is shown as (or should be shown as) a space.
func blank(r rune) bool {
	switch r {
	case '\u115F', '\u1160', '\u3164', '\uFFA0', // Hangul fillers
		'\u2800', // Braille blank
		'\u180E': // Mongolian vowel separator
		return true
	}
	return unicode.IsSpace(r) || unicode.IsControl(r) ||
		unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Co, unicode.Cs)
}

// descriptionWidth is the width, in characters, of the description's lines.
const descriptionWidth = 64

// wrap cuts a line made by oneLine into lines of at most width characters,
// at spaces when it can.
func wrap(s string, width int) []string {
	var lines []string
	r := []rune(s)
	for len(r) > width {
		cut := width
		for i := width; i > width/2; i-- {
			if r[i] == ' ' {
				cut = i
				break
			}
		}
		lines = append(lines, strings.TrimRight(string(r[:cut]), " "))
		r = r[cut:]
		for len(r) > 0 && r[0] == ' ' {
			r = r[1:]
		}
	}
	return append(lines, string(r))
}
