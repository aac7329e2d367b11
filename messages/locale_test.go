package messages

import "testing"

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
