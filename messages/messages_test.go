package messages

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"kyso.vn/kyso/protocol"
)

// tableTexts reads every Text{vi, en} written in messages.go, by name: the
// compiler already makes each message hold two strings; this checks what
// it cannot, that they say the same thing with the same verbs.
func tableTexts(t *testing.T) map[string]Text {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "messages.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Text{}
	ast.Inspect(f, func(n ast.Node) bool {
		kv, ok := n.(*ast.KeyValueExpr)
		var name string
		var lit *ast.CompositeLit
		switch {
		case ok:
			lit, _ = kv.Value.(*ast.CompositeLit)
			if sel, ok := kv.Key.(*ast.SelectorExpr); ok {
				name = "Error(" + sel.Sel.Name + ")"
			}
		default:
			vs, ok := n.(*ast.ValueSpec)
			if !ok || len(vs.Values) != 1 {
				return true
			}
			lit, _ = vs.Values[0].(*ast.CompositeLit)
			name = vs.Names[0].Name
		}
		if lit == nil || name == "" || len(lit.Elts) != 2 {
			return true
		}
		var s [2]string
		for i, e := range lit.Elts {
			b, ok := e.(*ast.BasicLit)
			if !ok {
				return true
			}
			s[i], _ = strconv.Unquote(b.Value)
		}
		out[name] = Text{s[0], s[1]}
		return true
	})
	if len(out) < 100 {
		t.Fatalf("read only %d messages from messages.go", len(out))
	}
	return out
}

func TestEveryTextInBothLanguages(t *testing.T) {
	for name, m := range tableTexts(t) {
		if strings.TrimSpace(m.VI) == "" || strings.TrimSpace(m.EN) == "" {
			t.Errorf("%s: %q / %q: a language is empty", name, m.VI, m.EN)
		}
	}
}

// The verbs of a message must be the same in both languages, or In formats
// one of them wrongly.
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
	for name, m := range tableTexts(t) {
		if a, b := verbs(m.VI), verbs(m.EN); a != b {
			t.Errorf("%s: vi verbs %q, en verbs %q", name, a, b)
		}
	}
}

func TestEveryCodeHasAMessage(t *testing.T) {
	all := append(append([]protocol.Code{}, protocol.Codes...), protocol.ClientCodes...)
	for _, c := range all {
		if _, ok := errorTexts[c]; !ok {
			t.Errorf("no message for %s", c)
		}
	}
	if len(errorTexts) != len(all) {
		t.Errorf("%d error messages for %d codes", len(errorTexts), len(all))
	}
}

func TestTitles(t *testing.T) {
	for _, lang := range []string{"vi", "en"} {
		for _, m := range []Text{ConsentTitle, PickerTitle, PINTitle} {
			if !strings.HasPrefix(m.In(lang), "Kyso") {
				t.Errorf("%s %q: must begin with Kyso", lang, m.In(lang))
			}
		}
		if !strings.Contains(PINTitle.In(lang), "PIN") {
			t.Errorf("%s PIN title %q has no PIN", lang, PINTitle.In(lang))
		}
	}
}

func TestIn(t *testing.T) {
	if got := PINSignN.In("vi", 250); got != "Ký 250 tài liệu" {
		t.Errorf("vi signN = %q", got)
	}
	if got := PINSignN.In("en", 250); got != "Sign 250 documents" {
		t.Errorf("en signN = %q", got)
	}
	if got := Error(protocol.NoToken).In("fr"); got != errorTexts[protocol.NoToken].EN {
		t.Errorf("unknown language = %q, want English", got)
	}
	if got := PINSignN.With(3); got.VI != "Ký 3 tài liệu" || got.EN != "Sign 3 documents" {
		t.Errorf("With = %+v", got)
	}
}

// extension/messages.json is what kyso.js shows; it must be the table's.
func TestMessagesJSONFresh(t *testing.T) {
	got, err := os.ReadFile(filepath.Join("..", "extension", "messages.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, JSON()) {
		t.Fatal("extension/messages.json is stale: run go generate ./messages")
	}
}
