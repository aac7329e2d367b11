// Package prompt holds Kyso's native dialogs behind the Prompter interface:
// consent for a new origin, the certificate picker and the PIN entry. The
// engine knows only this interface; tests inject their own Prompter, and the
// shipped binary uses the native one. Nothing here can answer for a person.
package prompt

import (
	"context"
	"errors"
	"time"
)

// ErrCancelled is returned when the user closes or declines a dialog.
// When ctx ends first (timeout, connection closed) a dialog closes itself and
// the method returns ctx.Err().
var ErrCancelled = errors.New("prompt: cancelled by the user")

// Approval is the answer to a new origin.
type Approval int

const (
	Deny Approval = iota
	AllowOnce
	AllowAlways
)

// CertChoice is one line of the certificate picker.
type CertChoice struct {
	Holder   string // subject common name (or the whole subject)
	Issuer   string // issuer common name
	NotAfter time.Time
	Expired  bool
	Token    string // token label
}

// PINRequest is what the PIN dialog shows. Origin is shown prominently;
// Description comes from the page and is marked as unverified.
type PINRequest struct {
	Origin      string
	Holder      string
	Token       string
	Description string
	Count       int  // number of hashes: >1 shows "sign N documents"
	Retry       bool // the previous PIN was wrong
	CountLow    bool // the token reports wrong tries
	FinalTry    bool // one more wrong PIN locks the token
}

// Prompter asks the person at the desktop.
type Prompter interface {
	ApproveOrigin(ctx context.Context, origin string) (Approval, error)
	// PickCertificate returns the index of the chosen certificate.
	PickCertificate(ctx context.Context, origin string, certs []CertChoice) (int, error)
	// PIN returns the PIN typed; the caller wipes it after use.
	PIN(ctx context.Context, req PINRequest) ([]byte, error)
}
