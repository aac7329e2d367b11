package prompt

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestEveryKeyInEveryLanguage(t *testing.T) {
	for _, lang := range []string{"vi", "en"} {
		for other := range messages {
			for key := range messages[other] {
				if _, ok := messages[lang][key]; !ok {
					t.Errorf("key %q is in %s but not in %s", key, other, lang)
				}
			}
		}
	}
	if len(messages) != 2 {
		t.Errorf("languages: %d, want vi and en", len(messages))
	}
}

// The verbs of a key must be the same in both languages, or T formats one
// of them wrongly.
func TestSameVerbs(t *testing.T) {
	verbs := func(s string) string {
		var v []string
		for i := 0; i < len(s)-1; i++ {
			if s[i] == '%' {
				v = append(v, s[i:i+2])
				i++
			}
		}
		return strings.Join(v, ",")
	}
	for key, vi := range messages["vi"] {
		if a, b := verbs(vi), verbs(messages["en"][key]); a != b {
			t.Errorf("%s: vi verbs %q, en verbs %q", key, a, b)
		}
	}
}

func TestErrorCodesHaveMessages(t *testing.T) {
	codes := []string{"BAD_REQUEST", "UNKNOWN_OP", "ORIGIN_DENIED", "USER_CANCELLED",
		"TIMEOUT", "BUSY", "RATE_LIMITED", "NO_TOKEN", "NO_CERTIFICATE",
		"CERTIFICATE_NOT_FOUND", "UNSUPPORTED_ALGORITHM", "PIN_LOCKED",
		"TOKEN_REMOVED", "TOKEN_ERROR", "INTERNAL"}
	for _, c := range codes {
		for _, lang := range []string{"vi", "en"} {
			if _, ok := messages[lang]["err."+c]; !ok {
				t.Errorf("no %s message for %s", lang, c)
			}
		}
	}
}

func TestTitles(t *testing.T) {
	for _, lang := range []string{"vi", "en"} {
		for _, key := range []string{"consent.title", "picker.title", "pin.title"} {
			if !strings.HasPrefix(T(lang, key), "Kyso") {
				t.Errorf("%s %s = %q: must begin with Kyso", lang, key, T(lang, key))
			}
		}
		if !strings.Contains(T(lang, "pin.title"), "PIN") {
			t.Errorf("%s PIN title %q has no PIN", lang, T(lang, "pin.title"))
		}
	}
}

func TestT(t *testing.T) {
	if got := T("vi", "pin.signN", 250); got != "Ký 250 tài liệu" {
		t.Errorf("vi signN = %q", got)
	}
	if got := T("en", "pin.signN", 250); got != "Sign 250 documents" {
		t.Errorf("en signN = %q", got)
	}
	if got := T("fr", "err.NO_TOKEN"); got != messages["en"]["err.NO_TOKEN"] {
		t.Errorf("unknown language = %q, want English", got)
	}
	if got := T("vi", "no.such.key"); got != "no.such.key" {
		t.Errorf("missing key = %q", got)
	}
}

// The command line's texts are looked up by key from cmd/kyso (say,
// sayBoth) and installer/doctor.go (text, fault): T would print a missing
// key as itself, so every key those calls name must be in the table, and
// every "cli." key in the table must still be used.
func TestCLIKeys(t *testing.T) {
	used := map[string]bool{}
	scan := func(glob, prefix string, call *regexp.Regexp) {
		files, err := filepath.Glob(glob)
		if err != nil || len(files) == 0 {
			t.Fatalf("no source in %s: %v", glob, err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range call.FindAllStringSubmatch(string(b), -1) {
				key := prefix + m[1]
				used[key] = true
				for _, lang := range []string{"vi", "en"} {
					if _, ok := messages[lang][key]; !ok {
						t.Errorf("%s: %q is not in the %s table", f, key, lang)
					}
				}
			}
		}
	}
	scan("../cmd/kyso/*.go", "cli.", regexp.MustCompile(`\bsay(?:Both)?\("([A-Za-z.]+)"`))
	// status.go names some keys in a table or through yesNo.
	scan("../cmd/kyso/*.go", "cli.", regexp.MustCompile(`"(status\.[A-Za-z]+)"`))
	scan("../installer/*.go", "cli.doctor.", regexp.MustCompile(`\b(?:text|fault)\("([A-Za-z]+)"`))
	// Keys composed from a name (cmd/kyso/flags.go, installer.DialogError):
	// a command's line and help, a flag's text, a dialog finding and its fix.
	scan("../cmd/kyso/*.go", "cli.cmd.", regexp.MustCompile(`\bname: "([a-z]+)"`))
	scan("../cmd/kyso/*.go", "cli.flag.", regexp.MustCompile(`\.(?:String|Bool|Var)\((?:&\w+, )?"([a-z]+)"`))
	scan("../installer/*.go", "cli.doctor.dialog", regexp.MustCompile(`\bKey: "([A-Za-z]+)"`))
	for key := range used {
		used[key+".more"], used[key+"Fix"] = true, true
	}
	for key := range messages["vi"] {
		if strings.HasPrefix(key, "cli.") && !used[key] {
			t.Errorf("%s is in the table but no command uses it", key)
		}
	}
}
