package prompt

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
	"golang.org/x/text/width"
)

// originColumns is the most screen columns an origin takes in a dialog.
// Real portals are far shorter ("https://dichvucong.baohiemxahoi.gov.vn"
// has 38); a longer host is shortened in the middle.
const originColumns = 64

// minHostColumns is how much of the start of a shortened host stays
// visible even when the registrable domain alone fills the budget.
const minHostColumns = 12

// shownOrigin is an origin as every dialog shows it (DESIGN, "Origins"):
// the registrable domain is what tells who asks, so it is always whole and
// emphasised; a long host is shortened in the middle, never at the end.
// Before, a 253-character https://dichvucong.gov.vn.aaaa…evil.com was cut
// at 200 characters and showed only the trusted-looking start (issue 16,
// finding 3).
type shownOrigin struct {
	head   string // "https://" and the host before the domain, shortened with "…"
	domain string // the registrable domain (or the whole host) and ":port": never cut
}

// showOrigin renders origin for a dialog. Every dialog that names an
// origin goes through it.
//   - The registrable domain is the public suffix plus one label
//     (golang.org/x/net/publicsuffix, private suffixes such as github.io
//     included, as browsers count sites). An IP literal, localhost, a single
//     label or a bare public suffix is shown whole as the domain.
//   - The result is ASCII: the engine only passes origins as browsers send
//     them (lowercase, IDNs in punycode), and anything else is made so
//     (IDNA lookup, else \u escapes), so no bidi or control character, and
//     no look-alike script, can reorder or disguise what is shown.
//   - The host's start and end are kept around "…" to fit originColumns,
//     counting columns (golang.org/x/text/width), not bytes.
func showOrigin(origin string) shownOrigin {
	u, err := url.Parse(origin)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
		// Not scheme://host[:port]: shown whole-emphasised, made safe.
		return shownOrigin{domain: cutMiddle(asciiOnly(oneLine(origin, 4*originColumns)), originColumns)}
	}
	scheme := asciiOnly(strings.ToLower(u.Scheme)) + "://"
	host, port := u.Hostname(), u.Port()
	if port != "" {
		port = ":" + asciiOnly(port)
	}
	if strings.Contains(u.Host, "[") {
		host = "[" + asciiOnly(host) + "]"
		return fit(scheme, "", host+port)
	}
	host = asciiHost(host)
	if host == "localhost" || net.ParseIP(host) != nil {
		return fit(scheme, "", host+port)
	}
	domain, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil || domain == host {
		return fit(scheme, "", host+port)
	}
	return fit(scheme, strings.TrimSuffix(host, domain), domain+port)
}

// fit shortens sub (the labels before the domain, with their dot) in the
// middle so that the whole fits originColumns, keeping minHostColumns of
// it at least.
func fit(scheme, sub, domain string) shownOrigin {
	room := originColumns - columns(scheme) - columns(domain)
	if columns(sub) <= room {
		return shownOrigin{head: scheme + sub, domain: domain}
	}
	return shownOrigin{head: scheme + cutMiddle(sub, max(room, minHostColumns)), domain: domain}
}

// cutMiddle shortens s to at most n columns by replacing its middle with
// "…": two thirds of the room for the start, the rest for the end.
func cutMiddle(s string, n int) string {
	if columns(s) <= n {
		return s
	}
	room := n - 1 // the "…"
	headCols := room * 2 / 3
	r := []rune(s)
	i, used := 0, 0
	for ; i < len(r) && used+runeColumns(r[i]) <= headCols; i++ {
		used += runeColumns(r[i])
	}
	j, tail := len(r), 0
	for ; j > i && used+tail+runeColumns(r[j-1]) <= room; j-- {
		tail += runeColumns(r[j-1])
	}
	return string(r[:i]) + "…" + string(r[j:])
}

// plain is the origin for a dialog that shows plain text (the Linux
// question and entry dialogs, every dialog on Windows and macOS): the
// domain in capitals, the one emphasis plain text has (host names are
// case-insensitive, so it is still the same name).
func (o shownOrigin) plain() string { return o.head + strings.ToUpper(o.domain) }

// listMarkup is the origin for the text of a list dialog: escaped by
// listText, with the domain also in bold where the dialog reads markup
// (Linux; bold is a no-op elsewhere).
func (o shownOrigin) listMarkup() string {
	return listText(o.head) + bold(listText(strings.ToUpper(o.domain)))
}

// asciiHost returns host as a browser sends it: lowercase ASCII with IDNs
// in punycode. A host IDNA refuses is escaped instead.
func asciiHost(host string) string {
	if isASCII(host) {
		return strings.ToLower(host)
	}
	if a, err := idna.Lookup.ToASCII(host); err == nil && isASCII(a) {
		return a
	}
	return asciiOnly(strings.ToLower(host))
}

// asciiOnly keeps printable ASCII and writes anything else as \u{XXXX}, so
// the text shown cannot be reordered (bidi) or disguised (other scripts).
func asciiOnly(s string) string {
	if isASCII(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 && unicode.IsPrint(r) {
			b.WriteRune(r)
		} else {
			fmt.Fprintf(&b, `\u{%X}`, r)
		}
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// columns is the width of s on screen, in columns of a Latin letter.
func columns(s string) int {
	n := 0
	for _, r := range s {
		n += runeColumns(r)
	}
	return n
}

// runeColumns: East Asian wide and fullwidth characters take two columns,
// combining marks and zero-width characters none, the rest one.
func runeColumns(r rune) int {
	switch {
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}
