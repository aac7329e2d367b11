package wire

import (
	"bytes"
	"errors"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for _, m := range []Message{
		{Kind: Request, Tag: 1, Origin: "https://dichvucong.gov.vn", Body: []byte(`{"id":"r1","op":"version"}`)},
		{Kind: Request, Tag: 1 << 60, Origin: "", Body: []byte(`{}`)},
		{Kind: Answer, Tag: 42, Body: []byte(`{"id":"r1","ok":true}`)},
		{Kind: Stats, Tag: 7},
		{Kind: Quit, Tag: 9},
		{Kind: Progress, Tag: 9, Body: []byte(`{"id":"r1","progress":{"done":1,"total":2}}`)},
	} {
		got, err := Parse(Append(nil, m))
		if err != nil || got.Kind != m.Kind || got.Tag != m.Tag || got.Origin != m.Origin || !bytes.Equal(got.Body, m.Body) {
			t.Errorf("%+v: got %+v, %v", m, got, err)
		}
	}
	if m, err := Parse(Append(nil, Message{Kind: Hello})); err != nil || m.Kind != Hello {
		t.Errorf("hello: %+v %v", m, err)
	}
}

func TestOtherVersion(t *testing.T) {
	for _, msg := range []string{`{"origin":"x","request":{}}`, "h\x02", "h"} {
		if _, err := Parse([]byte(msg)); !errors.Is(err, ErrOtherVersion) {
			t.Errorf("%q: %v, want ErrOtherVersion", msg, err)
		}
	}
}

func TestBroken(t *testing.T) {
	for _, msg := range []string{"", "x", "r", "r\x00\x00\x00\x00\x00\x00\x00\x01", "r\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x05abc",
		"r\x00\x00\x00\x00\x00\x00\x00\x01\xff\xff\xff\xff", "s\x00\x00\x00\x00\x00\x00\x00\x01x", "q\x00\x00\x00\x00\x00\x00\x00\x01x", "q\x00\x01", "a\x00\x01", "p\x00\x01"} {
		if _, err := Parse([]byte(msg)); err == nil || errors.Is(err, ErrOtherVersion) {
			t.Errorf("%q: %v, want an error", msg, err)
		}
	}
}

// FuzzParse: Parse never panics, and what it reads it writes back the same.
func FuzzParse(f *testing.F) {
	f.Add(Append(nil, Message{Kind: Request, Tag: 3, Origin: "https://a.vn", Body: []byte(`{"id":"a"}`)}))
	f.Add(Append(nil, Message{Kind: Answer, Tag: 3, Body: []byte(`{}`)}))
	f.Add(Append(nil, Message{Kind: Stats, Tag: 1}))
	f.Add(Append(nil, Message{Kind: Quit, Tag: 1}))
	f.Add(Append(nil, Message{Kind: Progress, Tag: 1, Body: []byte(`{}`)}))
	f.Add([]byte("r\x00\x00\x00\x00\x00\x00\x00\x01\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		m, err := Parse(msg)
		if err != nil {
			return
		}
		if again := Append(nil, m); !bytes.Equal(again, msg) {
			t.Fatalf("%q read as %+v, written back as %q", msg, m, again)
		}
	})
}

// TestKindsDistinct: each kind is its own first byte (two branches added
// Quit and Progress side by side).
func TestKindsDistinct(t *testing.T) {
	seen := map[byte]bool{}
	for _, k := range []byte{Hello, Request, Stats, Quit, Answer, Progress} {
		if seen[k] {
			t.Errorf("kind %q used twice", k)
		}
		seen[k] = true
	}
}
