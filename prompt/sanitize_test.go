package prompt

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestOneLine(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Hồ sơ số 123", "Hồ sơ số 123"},
		{"  a\n\nTrang web: https://bank.gov.vn", "a Trang web: https://bank.gov.vn"},
		{"a\r\nb\tc\x1b[31md", "a b c [31md"},
		{"a\u2028b\u2029c\u0085d", "a b c d"},
		{"abc\u202egnp.exe", "abc gnp.exe"}, // bidi override
		{"a\u200bb\ufeffc", "a b c"},        // zero-width
		{"a" + strings.Repeat("\u2800", 80) + "b", "a b"},
		{"a" + strings.Repeat("\u3164", 80) + "b", "a b"},
		{"e\u0302\u0323", "e\u0302\u0323"}, // ệ decomposed keeps its two marks
		{"x" + strings.Repeat("\u0300", 50) + "y", "x\u0300\u0300y"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
		{"<b>&amp;</b> \\n", "<b>&amp;</b> \\n"}, // markup is for the per-OS escape
	} {
		if got := oneLine(c.in, 256); got != c.want {
			t.Errorf("oneLine(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	long := oneLine(strings.Repeat("á", 1000), 256)
	if n := utf8.RuneCountInString(long); n != 257 || !strings.HasSuffix(long, "…") {
		t.Errorf("long text: %d characters, %q…", n, long[:10])
	}
}

func TestWrap(t *testing.T) {
	s := oneLine(strings.Repeat("Trang web: https://bank.gov.vn ", 10), 256)
	lines := wrap(s, descriptionWidth)
	var joined []string
	for _, l := range lines {
		if n := utf8.RuneCountInString(l); n > descriptionWidth || n == 0 {
			t.Errorf("line of %d characters: %q", n, l)
		}
		joined = append(joined, l)
	}
	if strings.Join(joined, " ") != s {
		t.Errorf("wrap lost text: %q", joined)
	}
	if got := wrap(strings.Repeat("x", 130), 64); len(got) != 3 || got[0] != strings.Repeat("x", 64) {
		t.Errorf("long word: %q", got)
	}
	if got := wrap("short", 64); len(got) != 1 || got[0] != "short" {
		t.Errorf("short: %q", got)
	}
}
