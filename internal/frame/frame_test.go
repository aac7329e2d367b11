package frame

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var b bytes.Buffer
	for _, m := range []string{`{"a":1}`, ``, `{"b":"ký số"}`} {
		if err := Write(&b, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{`{"a":1}`, ``, `{"b":"ký số"}`} {
		got, err := Read(&b, Max)
		if err != nil || string(got) != want {
			t.Fatalf("Read = %q, %v; want %q", got, err, want)
		}
	}
	if _, err := Read(&b, Max); err != io.EOF {
		t.Fatalf("Read at end = %v; want io.EOF", err)
	}
}

func TestBadFrames(t *testing.T) {
	if _, err := Read(bytes.NewReader([]byte{1, 2}), Max); err == nil || err == io.EOF {
		t.Fatalf("truncated length: %v", err)
	}
	if _, err := Read(bytes.NewReader([]byte{0, 0, 0x20, 0, '{'}), Max); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("2 MiB frame: %v", err)
	}
	if _, err := Read(bytes.NewReader([]byte{5, 0, 0, 0, '{'}), Max); err == nil {
		t.Fatal("truncated body accepted")
	}
	if err := Write(io.Discard, make([]byte, Max+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Write too large: %v", err)
	}
}

func TestWriteReserved(t *testing.T) {
	var b bytes.Buffer
	buf := append(make([]byte, HeaderLen), `{"a":"ký"}`...)
	if err := WriteReserved(&b, buf, Max); err != nil {
		t.Fatal(err)
	}
	if got, err := Read(&b, Max); err != nil || string(got) != `{"a":"ký"}` {
		t.Fatalf("Read = %q, %v", got, err)
	}
	if err := WriteReserved(&b, make([]byte, HeaderLen+11), 10); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
	if err := WriteReserved(&b, []byte{1}, 10); err == nil || b.Len() != 0 {
		t.Fatalf("no room for the length: %v, wrote %d", err, b.Len())
	}
}
