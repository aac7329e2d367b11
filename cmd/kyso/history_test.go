package main

import (
	"strings"
	"testing"
	"time"

	"kyso.vn/kyso/internal/audit"
)

// TestHistoryDocuments: a document operation's record reads like a
// signature's, with each document by name and SHA-256 and the holder.
func TestHistoryDocuments(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	recs := []audit.Record{
		{Time: time.Now(), Origin: "https://hoadon.gdt.gov.vn", Op: "signPdf", Subject: "NGUYỄN VĂN AN", Outcome: "OK",
			Items: []audit.Item{{Document: "hop-dong.pdf", SHA256: sum}}},
		{Time: time.Now(), Origin: "https://hoadon.gdt.gov.vn", Op: "signXml", Outcome: "TIMESTAMP_FAILED",
			Items: []audit.Item{{Document: "a.xml", SHA256: sum}, {Document: "b.xml", SHA256: sum}}},
	}
	var b strings.Builder
	printHistory(&b, recs, 0, "en")
	out := b.String()
	for _, want := range []string{"Sign one document: done", "Certificate: NGUYỄN VĂN AN", `Document "hop-dong.pdf" — SHA-256 ` + sum,
		"Sign 2 documents", "(TIMESTAMP_FAILED)", `Document "b.xml"`} {
		if !strings.Contains(out, want) {
			t.Errorf("history lacks %q:\n%s", want, out)
		}
	}
}
