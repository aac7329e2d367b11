//go:build unix

package pkcs11

import (
	"testing"

	"github.com/rs/zerolog"
)

// BenchmarkJournalRegion is the journal's cost per call into a module: one
// enter and one leave (a sign request makes about five: open, PIN state,
// login, sign, close).
//
//	go test -run '^$' -bench JournalRegion ./token/pkcs11/
func BenchmarkJournalRegion(b *testing.B) {
	j, err := OpenJournal(b.TempDir(), zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	m := j.markFor("/usr/lib/softhsm/libsofthsm2.so")
	b.ReportAllocs()
	for b.Loop() {
		m.enter("C_Sign").leave()
	}
}

// TestMarkRecords: the marker file holds what parseMarks reads back, "in"
// while a call runs (also when calls nest) and "out" after.
func TestMarkRecords(t *testing.T) {
	dir := t.TempDir()
	j, err := OpenJournal(dir, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	a, b := j.markFor("/lib/a.so"), j.markFor("/lib/b.so")
	if j.markFor("/lib/a.so") != a {
		t.Fatal("a second mark for the same module")
	}
	read := func() []inFlight {
		return parseMarks(j.mf.data)
	}
	ra := a.enter("C_Sign")
	rb := b.enter("C_Login")
	inner := a.enter("C_GetTokenInfo")
	inner.leave()
	if got := read(); len(got) != 2 || got[0] != (inFlight{"/lib/a.so", "C_Sign"}) || got[1] != (inFlight{"/lib/b.so", "C_Login"}) {
		t.Fatalf("in flight: %+v", got)
	}
	ra.leave()
	rb.leave()
	if got := read(); len(got) != 0 {
		t.Fatalf("in flight after leaving: %+v", got)
	}
}
