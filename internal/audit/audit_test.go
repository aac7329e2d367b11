package audit

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"kyso.vn/kyso/internal/logging"
)

func record(i, hashes int) Record {
	r := Record{
		Time:        time.Date(2026, 1, 2, 3, 4, 5, i, time.UTC),
		Origin:      "https://dichvucong.gov.vn",
		Op:          "signBatch",
		CertID:      strings.Repeat("ab", 32),
		Subject:     "NGUYỄN VĂN AN",
		Description: fmt.Sprintf("Hồ sơ số %d", i),
		Outcome:     "OK",
	}
	for j := 0; j < hashes; j++ {
		h := make([]byte, 64)
		h[0], h[1] = byte(i), byte(j)
		r.Items = append(r.Items, Item{HashFunction: "SHA-512", Hash: hex.EncodeToString(h)})
	}
	return r
}

func TestWriteRead(t *testing.T) {
	dir := t.TempDir()
	l, c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []Record{record(1, 1), {Time: time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC), Origin: "https://edoc.example.vn",
		Op: "sign", CertID: strings.Repeat("cd", 32), Outcome: "USER_CANCELLED",
		Items: []Item{{Document: "Quyết định 12.pdf", SHA256: strings.Repeat("0f", 32)}}}}
	for _, r := range want {
		if err := l.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	// A line cut by a crash, a line of an older Kyso without a time, and
	// an older Kyso's line that is a record: the first two are skipped.
	f, _ := os.OpenFile(filepath.Join(dir, logging.AuditFileName), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"time":"2026-01-02T03:04:07Z","origin":"https://a.gov.vn","op":"si` + "\n" + `{"level":"info","op":"sign"}` + "\n" +
		`{"level":"info","component":"audit","origin":"https://old.gov.vn","op":"sign","outcome":"OK","time":"2025-12-31T23:00:00Z","message":"request"}` + "\n")
	f.Close()
	got, skipped, err := Read(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if skipped != 2 || len(got) != 3 || got[0].Origin != "https://old.gov.vn" {
		t.Fatalf("read %d records (%d skipped): %+v", len(got), skipped, got)
	}
	// Newest first, and as written.
	if !reflect.DeepEqual(got[1], want[1]) || !reflect.DeepEqual(got[2], want[0]) {
		t.Fatalf("read back\n%+v\nwant\n%+v", got[1:], []Record{want[1], want[0]})
	}
	if got, _, _ := Read(dir, 1); len(got) != 1 || got[0].Origin != "https://old.gov.vn" {
		t.Fatalf("limit 1: %+v", got)
	}
	if got, _, err := Read(t.TempDir(), 0); err != nil || len(got) != 0 {
		t.Fatalf("no record yet: %v %v", got, err)
	}
}

// Concurrent writers never interleave within a line.
func TestConcurrentWrites(t *testing.T) {
	dir := t.TempDir()
	l, c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				l.Write(record(i, 50))
			}
		}()
	}
	wg.Wait()
	c.Close()
	got, skipped, err := Read(dir, 0)
	if err != nil || skipped != 0 || len(got) != 160 {
		t.Fatalf("%d records, %d skipped, %v", len(got), skipped, err)
	}
}

// Rotation keeps the history readable: past logging.MaxSize the file is
// moved to audit.log.1, and Read still returns both, newest first.
func TestRotationKeepsHistory(t *testing.T) {
	dir := t.TempDir()
	l, c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var size bytes.Buffer
	New(&size).Write(record(0, 1000))
	n := logging.MaxSize/size.Len() + 5 // enough to rotate once
	for i := 0; i < n; i++ {
		if err := l.Write(record(i, 1000)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, logging.AuditFileName+".1")); err != nil {
		t.Fatalf("not rotated after %d records of %d bytes: %v", n, size.Len(), err)
	}
	got, skipped, err := Read(dir, 0)
	if err != nil || skipped != 0 || len(got) != n {
		t.Fatalf("after one rotation: %d of %d records, %d skipped, %v", len(got), n, skipped, err)
	}
	for i, r := range got {
		if r.Description != fmt.Sprintf("Hồ sơ số %d", n-1-i) || len(r.Items) != 1000 {
			t.Fatalf("record %d: %q with %d items", i, r.Description, len(r.Items))
		}
	}
}
