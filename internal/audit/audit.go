// Package audit is Kyso's signing record (DESIGN, "Rules that hold
// everywhere"): one Record per operation that a person or a token took
// part in — a signature, a certificate given, a dialog declined, a token
// failing — with who asked, for what, and how it ended. The engine writes
// it at the end of each such operation; `kyso history` reads it back for
// the person ("what did I sign, for whom") and, as JSON, for admins.
//
// It lives in audit.log beside kyso.log (internal/logging opens and rotates
// it), one JSON object a line. A page that asks `version` in a loop can
// push lines out of kyso.log but never reaches this file. A Record has no
// field that could hold a PIN.
package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"sync"
	"time"

	"kyso.vn/kyso/internal/logging"
)

// Record is one operation of the signing record.
type Record struct {
	Time   time.Time `json:"time"`
	Origin string    `json:"origin"` // the page's origin, as the engine established it
	Op     string    `json:"op"`     // sign, signBatch, getCertificate, …
	// CertID is the protocol's certificateId (the SHA-256 of the
	// certificate), in full.
	CertID  string `json:"certificateId,omitempty"`
	Subject string `json:"subject,omitempty"` // the certificate's holder, when the flow knew it
	// Items is what was signed, in full: every hash, or every document.
	Items []Item `json:"items,omitempty"`
	// Description is the page's own text for the operation (unverified).
	Description string `json:"description,omitempty"`
	// Outcome is "OK" or the protocol's error code (USER_CANCELLED, …).
	Outcome string `json:"outcome"`
}

// Item is one thing signed: a hash, or a document by name and SHA-256.
type Item struct {
	HashFunction string `json:"hashFunction,omitempty"` // "SHA-256", …
	Hash         string `json:"hash,omitempty"`         // hex, in full
	Document     string `json:"document,omitempty"`     // the document's name
	SHA256       string `json:"sha256,omitempty"`       // the document's SHA-256, hex
}

// Log writes Records. Safe for concurrent use.
type Log struct {
	mu sync.Mutex
	w  io.Writer
}

// New returns a Log writing to w (tests); Open is the real one.
func New(w io.Writer) *Log { return &Log{w: w} }

// Open opens the signing record in dir (audit.log, rotated by
// internal/logging). Close the Closer on the way out.
func Open(dir string) (*Log, io.Closer, error) {
	f, err := logging.OpenAudit(dir)
	if err != nil {
		return nil, nil, err
	}
	return New(f), f, nil
}

// Write appends r as one line, in one write: the agent and an in-process
// `kyso host` may append to the same file.
func (l *Log) Write(r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	b = append(b, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.w.Write(b); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// maxLine bounds one record line: a batch of 1000 SHA-512 hashes with the
// longest description is about 160 KB. Longer lines are skipped.
const maxLine = 4 << 20

// Read returns the records in dir's signing record, the rotated file too,
// newest first; at most limit (0: all). Lines that are not records (cut by
// a crash, or of an older Kyso) are skipped; skipped says how many. Each
// file is at most about logging.MaxSize, so reading it whole is fine.
func Read(dir string, limit int) (recs []Record, skipped int, err error) {
	for _, path := range logging.Generations(dir, logging.AuditFileName) {
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, 0, fmt.Errorf("audit: %w", err)
		}
		for line := range bytes.Lines(b) {
			line = bytes.TrimSpace(line)
			if len(line) == 0 {
				continue
			}
			var r Record
			if len(line) > maxLine || json.Unmarshal(line, &r) != nil || r.Op == "" || r.Time.IsZero() {
				skipped++
				continue
			}
			recs = append(recs, r)
		}
	}
	slices.Reverse(recs)
	if limit > 0 && len(recs) > limit {
		recs = recs[:limit]
	}
	return recs, skipped, nil
}
