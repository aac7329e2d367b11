// Package document holds what Kyso's document formats (PDF in document/pdf,
// CMS in document/cms, XML in document/xmldsig) share with the engine: a
// document is prepared first (parsed, checked, its bytes to sign fixed), the
// person then sees its Summary in the signing dialog, the token signs the
// prepared Digest through the token interface (a hash, nothing
// format-specific below the engine), and Finish builds the signed output
// from that one signature. A token is never asked twice for one document.
package document

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// Signer is who signs: the certificate whose key is on the token, and the
// CA certificates to embed (the chain found on the token, possibly empty).
type Signer struct {
	Cert  *x509.Certificate
	Chain []*x509.Certificate
	// Time is the claimed signing time (the engine's clock).
	Time time.Time
}

// Summary is what the signing dialog shows about one document and what the
// audit log records: enough for a person to recognise what they sign.
type Summary struct {
	Kind     string   // "pdf", "xml" or "cms"
	FileName string   // as the page named it (unverified)
	Title    string   // the PDF's /Title, or the XML root element's name
	Pages    int      // PDF page count; 0 otherwise
	SHA256   [32]byte // of the document's bytes as given (for cms: the digest given)
	Details  []Detail // format-specific lines, e.g. an invoice's number, seller, total
}

// Detail is one labelled line of a Summary. Label is a message-table key
// suffix (e.g. "invoiceNumber"), Value comes from the document (unverified).
type Detail struct {
	Label string
	Value string
}

// Prepared is a document ready to be signed.
type Prepared interface {
	Summary() Summary
	// Digest is the hash the token signs, computed with Hash.
	Digest() []byte
	Hash() crypto.Hash
	// Finish builds the signed document from the token's signature over
	// Digest (RSA: the raw PKCS#1 v1.5 signature; ECDSA: DER SEQUENCE{r, s},
	// as the token layer returns it). It may call a timestamp authority;
	// ctx bounds that call.
	Finish(ctx context.Context, signature []byte) ([]byte, error)
}

// Codes of Error, as protocol v1 names them.
const (
	CodeBadDocument     = "BAD_DOCUMENT"
	CodeTimestampFailed = "TIMESTAMP_FAILED"
)

// Error is a document failure the page is told about: Code is BAD_DOCUMENT
// or TIMESTAMP_FAILED, Reason says why in plain English for the portal
// developer (e.g. "the PDF is encrypted", "no element with Id \"x\"").
type Error struct {
	Code   string
	Reason string
	Err    error
}

func (e *Error) Error() string {
	s := e.Code + ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Bad returns a BAD_DOCUMENT error with a reason.
func Bad(format string, a ...any) *Error {
	return &Error{Code: CodeBadDocument, Reason: fmt.Sprintf(format, a...)}
}

// IsCode reports whether err is a document Error with code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// Timestamper gets an RFC 3161 timestamp token (DER ContentInfo) over
// digest, computed with h. document/tsa implements it; nil means no
// timestamp (PAdES B-B).
type Timestamper interface {
	Timestamp(ctx context.Context, digest []byte, h crypto.Hash) ([]byte, error)
}
