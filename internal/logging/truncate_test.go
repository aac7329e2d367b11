package logging

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"https://a.vn", 200, "https://a.vn"},
		{"abcdef", 3, "abc…"},
		{"ký số", 4, "ký s…"},    // 4 characters, not 4 bytes
		{"ký số", 5, "ký số"},    // 7 bytes, 5 characters: not cut
		{"ếếế", 2, "ếế…"},        // never inside a character
		{"a\xffbc", 2, "a\xff…"}, // a byte that is not UTF-8 counts one
		{"", 0, ""},
	} {
		if got := Truncate(c.in, c.n); got != c.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
	long := strings.Repeat("ố", 300)
	if got := Truncate(long, 200); !utf8.ValidString(got) || utf8.RuneCountInString(got) != 201 {
		t.Errorf("Truncate of 300 ố: %d characters, valid %v", utf8.RuneCountInString(got), utf8.ValidString(got))
	}
}
