package pdf

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func parse(s string) (Object, error) {
	n := 0
	l := &lexer{b: []byte(s), elements: &n}
	return l.object(0)
}

func TestLexer(t *testing.T) {
	cases := []struct {
		in   string
		want Object
	}{
		{"null", nil},
		{"true", true},
		{"42", int64(42)},
		{"-17", int64(-17)},
		{"+5", int64(5)},
		{"--5", int64(-5)},
		{"3.25", Real(3.25)},
		{"-.5", Real(-0.5)},
		{"4.", Real(4)},
		{"12 0 R", Ref{12, 0}},
		{"12 0 obj", int64(12)},
		{"/Name", Name("Name")},
		{"/A#20B#2f", Name("A B/")},
		{"/#zz", Name("#zz")},
		{"/", Name("")},
		{"(a(b)c\\)\\n\\101\\0)", String("a(b)c)\nA\x00")},
		{"(line\\\ncontinued)", String("linecontinued")},
		{"(cr\r\nlf)", String("cr\nlf")},
		{"<48 65 6c6C6f>", String("Hello")},
		{"<4>", String{0x40}},
		{"[1 2 0 R /X [3]]", Array{int64(1), Ref{2, 0}, Name("X"), Array{int64(3)}}},
		{"<< /A 1 /B << /C (x) >> /N null /A 2 >>", Dict{"A": int64(1), "B": Dict{"C": String("x")}}},
		{"% comment\n 7", int64(7)},
		{"99999999999999999999", Real(1e20)},
		{strings.Repeat("9", 400), Real(math.MaxFloat32)},
		{"-" + strings.Repeat("9", 400) + ".5", Real(-math.MaxFloat32)},
	}
	for _, c := range cases {
		got, err := parse(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %#v, want %#v", c.in, got, c.want)
		}
	}
	for _, bad := range []string{"", "(unterminated", "<4g>", "[1 2", "<< /A >>", "<< 1 2 >>", "endobj", ")", "-", "<<", "<abc"} {
		if o, err := parse(bad); err == nil {
			t.Errorf("%q parsed as %#v", bad, o)
		}
	}
	deep := strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2)
	if _, err := parse(deep); err == nil {
		t.Error("nesting beyond maxDepth accepted")
	}
	n := maxElements - 2
	l := &lexer{b: []byte("[1 2 3 4 5]"), elements: &n}
	if _, err := l.object(0); err == nil {
		t.Error("element budget not enforced")
	}
}

// TestWriteRoundTrip: what the writer produces reads back the same.
func TestWriteRoundTrip(t *testing.T) {
	objs := []Object{
		Dict{
			"Type":   Name("Catalog"),
			"Odd":    Name("a b#c/d\x00é"),
			"Text":   String("(paren) \\ back\nnew"),
			"Bin":    String("\xfe\xff\x00K\x00y"),
			"Arr":    Array{int64(-3), Real(0.125), Real(-1.5), true, nil, Ref{7, 2}},
			"Nested": Dict{"X": Array{Dict{}}},
		},
		Real(612), Real(1e-9), Real(123456.78901),
	}
	for _, o := range objs {
		b := appendObject(nil, o)
		back, err := parse(string(b))
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if r, ok := o.(Real); ok {
			if f, _ := num(back); f-float64(r) > 1e-4 || float64(r)-f > 1e-4 {
				t.Errorf("%v wrote %s", r, b)
			}
			continue
		}
		if d, ok := o.(Dict); ok {
			a := d["Arr"].(Array)
			a[5] = Ref{7, 2}
			// nil elements read back as nil; a nil dict value is dropped
			if !reflect.DeepEqual(back, o) {
				t.Errorf("round trip:\n%s\n%#v\n%#v", b, back, o)
			}
		}
	}
}

func FuzzLexer(f *testing.F) {
	for _, s := range []string{"<< /A [1 2 0 R (x) <41>] /B 3.5 >>", "(\\(\\))", "/N#41", "[[[]]]", "12 0 R"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n := 0
		l := &lexer{b: b, elements: &n}
		o, err := l.object(0)
		if err != nil {
			return
		}
		// Whatever reads, writes and reads back to the same.
		w := appendObject(nil, o)
		back, err := parse(string(w))
		if err != nil {
			t.Fatalf("%q wrote %q which does not read: %v", b, w, err)
		}
		w2 := appendObject(nil, back)
		if string(w) != string(w2) {
			t.Fatalf("%q → %q → %q", b, w, w2)
		}
	})
}

func TestText(t *testing.T) {
	for _, c := range []struct {
		in   String
		want string
	}{
		{String("Plain \x84 dash\x8d"), "Plain — dash“"},
		{String("\xfe\xff\x00K\x00\xfd\x00 \x01\xa1\x1e\xdd\xd8\x3d\xde\x00"), "Ký ơờ😀"},
		{String("\xef\xbb\xbfQuy\xe1\xba\xbft \xc4\x91\xe1\xbb\x8bnh"), "Quyết định"},
		{String("  line\none\x00 "), "line one"},
	} {
		if got := decodeText(c.in); got != c.want {
			t.Errorf("decodeText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for _, s := range []string{"ASCII only", "Phê duyệt 😀", ""} {
		if got := decodeText(encodeText(s)); got != s {
			t.Errorf("round trip of %q: %q", s, got)
		}
	}
	if got := clipText(strings.Repeat("ạ", 10), 5); got != "ạạạạ…" {
		t.Errorf("clipText: %q", got)
	}
}
