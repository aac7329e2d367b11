package prompt

import (
	"strings"
	"testing"
)

// lookalike is the 253-character host of issue 16, finding 3: a trusted
// start, a long run of filler, and the real registrable domain at the end.
var lookalike = "https://dichvucong.gov.vn." + strings.Repeat("a", 60) + "." + strings.Repeat("a", 60) + "." +
	strings.Repeat("a", 60) + "." + strings.Repeat("a", 43) + ".evil.com"

func TestShowOriginLookalike(t *testing.T) {
	if n := len(strings.TrimPrefix(lookalike, "https://")); n != 253 {
		t.Fatalf("the host has %d characters, want 253", n)
	}
	o := showOrigin(lookalike)
	if o.domain != "evil.com" {
		t.Fatalf("domain %q, want evil.com", o.domain)
	}
	plain := o.plain()
	if !strings.HasSuffix(plain, ".EVIL.COM") || !strings.HasPrefix(plain, "https://dichvucong.gov.vn.") ||
		!strings.Contains(plain, "…") || columns(plain) > originColumns {
		t.Errorf("plain = %q (%d columns)", plain, columns(plain))
	}
	// The text of a list dialog (Pango markup on Linux) has it in bold.
	if m := o.listMarkup(); !strings.HasSuffix(m, bold("EVIL.COM")) {
		t.Errorf("listMarkup = %q", m)
	}
	// What the old cut kept, for the record: no "evil.com" at all.
	if old := oneLine(lookalike, 200); strings.Contains(old, "evil.com") {
		t.Errorf("oneLine at 200 characters kept the domain: the lookalike is too short")
	}
}

func TestShowOrigin(t *testing.T) {
	for _, c := range []struct{ in, plain string }{
		{"https://dichvucong.gov.vn", "https://DICHVUCONG.GOV.VN"}, // gov.vn is a public suffix
		{"https://edoc.hanoi.gov.vn:8443", "https://edoc.HANOI.GOV.VN:8443"},
		{"https://www.example.com", "https://www.EXAMPLE.COM"},
		{"https://evil.github.io", "https://EVIL.GITHUB.IO"}, // private suffixes count, as in browsers
		{"https://dichvucong.gov.vn.evil.com", "https://dichvucong.gov.vn.EVIL.COM"},
		{"http://localhost:3000", "http://LOCALHOST:3000"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"https://gov.vn", "https://GOV.VN"},                                       // a bare public suffix: whole
		{"https://intranet", "https://INTRANET"},                                   // one label
		{"https://xn--dchvucng-o1a3h.gov.vn", "https://XN--DCHVUCNG-O1A3H.GOV.VN"}, // punycode as sent
		// What the engine never passes, made ASCII all the same:
		{"https://dịchvụcông.gov.vn", "https://XN--DCHVCNG-X0A0689DSHA.GOV.VN"},
		{"https://ｅｖｉｌ.com", "https://EVIL.COM"}, // fullwidth letters map to ASCII (UTS 46)
		{"https://a\u202eb.evil.com", `https://a\u{202E}b.EVIL.COM`},
		{"not an origin\n\u202eTrang web: x", `NOT AN ORIGIN TRANG WEB: X`},
	} {
		if got := showOrigin(c.in).plain(); got != c.plain {
			t.Errorf("showOrigin(%q) = %q, want %q", c.in, got, c.plain)
		}
	}
	// A long registrable domain stays whole; the start keeps minHostColumns.
	long := "https://" + strings.Repeat("b", 50) + "." + strings.Repeat("c", 60) + ".com.vn:8443"
	o := showOrigin(long)
	if o.domain != strings.Repeat("c", 60)+".com.vn:8443" || o.head != "https://"+strings.Repeat("b", 7)+"…"+"bbb." {
		t.Errorf("long domain: %+v", o)
	}
}

// Widths: East Asian wide and fullwidth characters take two columns,
// combining marks none; the middle cut and oneLine count columns.
func TestColumns(t *testing.T) {
	for _, c := range []struct {
		s    string
		cols int
	}{
		{"abc", 3}, {"Nguyễn", 6}, {"Nguye\u0302\u0303n", 6}, {"中国", 4}, {"ｅｖｉｌ", 8},
		{"한국어", 6}, {"ｱｲｳ", 3} /* halfwidth katakana */, {"😀", 2}, {"", 0},
	} {
		if got := columns(c.s); got != c.cols {
			t.Errorf("columns(%q) = %d, want %d", c.s, got, c.cols)
		}
	}
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{
		{"abcdefghij", 10, "abcdefghij"},
		{"abcdefghij", 7, "abcd…ij"},
		{"中国人民共和国万岁", 9, "中国…万岁"}, // 18 columns into 9: 4 + 1 + 4
		{"ab中国cd", 6, "ab…cd"},
		{"ｅｖｉｌｅｖｉｌ", 7, "ｅｖ…ｌ"},
	} {
		got := cutMiddle(c.s, c.n)
		if got != c.want || columns(got) > c.n {
			t.Errorf("cutMiddle(%q, %d) = %q (%d columns), want %q", c.s, c.n, got, columns(got), c.want)
		}
	}
	// A name of wide characters is cut at the same width as a Latin one.
	if got := oneLine(strings.Repeat("国", 100), 120); columns(got) != 121 || !strings.HasSuffix(got, "…") {
		t.Errorf("oneLine of wide characters: %d columns", columns(got))
	}
}
