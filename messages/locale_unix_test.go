//go:build !windows

package messages

import "testing"

func TestLangFromEnvironment(t *testing.T) {
	for _, c := range []struct {
		all, messages, lang, want string
	}{
		{"", "", "", "vi"},
		{"", "", "vi_VN.UTF-8", "vi"},
		{"", "", "en_US.UTF-8", "en"},
		{"", "", "C.UTF-8", "vi"},
		{"", "vi_VN.UTF-8", "en_US.UTF-8", "vi"},            // LC_MESSAGES over LANG
		{"en_US.UTF-8", "vi_VN.UTF-8", "vi_VN.UTF-8", "en"}, // LC_ALL over all
		{"vi_VN.UTF-8", "en_US.UTF-8", "", "vi"},
	} {
		t.Setenv("LC_ALL", c.all)
		t.Setenv("LC_MESSAGES", c.messages)
		t.Setenv("LANG", c.lang)
		if got := Lang(); got != c.want {
			t.Errorf("LC_ALL=%q LC_MESSAGES=%q LANG=%q: Lang() = %s, want %s", c.all, c.messages, c.lang, got, c.want)
		}
	}
}
