package messages

import (
	"strings"
	"testing"
)

func TestLangOf(t *testing.T) {
	for _, c := range []struct {
		locales []string
		want    string
	}{
		{nil, "vi"},
		{[]string{""}, "vi"},
		{[]string{"C"}, "vi"},
		{[]string{"POSIX"}, "vi"},
		{[]string{"C.UTF-8"}, "vi"},
		{[]string{"vi_VN.UTF-8"}, "vi"},
		{[]string{"vi_VN"}, "vi"},
		{[]string{"vi"}, "vi"},
		{[]string{"vi-VN"}, "vi"}, // Windows names
		{[]string{"en_US.UTF-8"}, "en"},
		{[]string{"en-US"}, "en"},
		{[]string{"fr_FR.UTF-8"}, "en"},
		{[]string{"vio_XX"}, "en"}, // not Vietnamese, only starts alike
		{[]string{"C", "vi_VN"}, "vi"},
	} {
		if got := langOf(c.locales); got != c.want {
			t.Errorf("langOf(%q) = %s, want %s", c.locales, got, c.want)
		}
	}
}

func TestParseAppleLanguages(t *testing.T) {
	for _, c := range []struct {
		out  string
		want []string
		lang string
	}{
		{"(\n    \"vi-VN\",\n    \"en-VN\"\n)\n", []string{"vi-VN", "en-VN"}, "vi"},
		{"(\n    \"en-US\",\n    \"vi-VN\"\n)\n", []string{"en-US", "vi-VN"}, "en"},
		{"(\n    vi,\n    en\n)", []string{"vi", "en"}, "vi"},
		{`("zh-Hans-VN", "en")`, []string{"zh-Hans-VN", "en"}, "en"},
		{"()", nil, "vi"},
		{"", nil, "vi"},
		{"2024-01-01 defaults[123:456] The domain/default pair of (kCFPreferencesAnyApplication, AppleLanguages) does not exist", nil, "vi"},
	} {
		got := parseAppleLanguages(c.out)
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("parseAppleLanguages(%q) = %q, want %q", c.out, got, c.want)
		}
		// The first preferred language decides, as on macOS.
		first := got
		if len(first) > 1 {
			first = first[:1]
		}
		if l := langOf(first); l != c.lang {
			t.Errorf("%q: language %s, want %s", c.out, l, c.lang)
		}
	}
}
