// Package prompt holds Kyso's native dialogs behind the Prompter interface:
// consent for a new origin, the certificate picker, the PIN entry, the
// confirmation of a signing operation while the token is still logged in,
// and the windows that tell the person what Kyso waits for (a token to be
// plugged in, the PIN typed on a reader's keypad, signatures being made).
// The engine knows only this interface; tests inject their own Prompter,
// and the shipped binary uses the native one. Nothing here can answer for a
// person.
//
// Dialogs fail closed: only an explicit Allow, Sign or typed PIN is an
// answer that lets an operation go on. A dialog that cannot be shown, that
// fails, or that ends with an answer Kyso does not know returns
// ErrNoDialog; the person declining or closing it returns ErrCancelled.
package prompt

import (
	"context"
	"errors"
	"time"

	"kyso.vn/kyso/document"
)

// ErrCancelled is returned when the person declines or closes a dialog.
// When ctx ends first (a dialog's time is up, the connection closed) a
// dialog closes itself and the method returns ctx.Err().
var ErrCancelled = errors.New("prompt: cancelled by the user")

// ErrNoDialog is returned (wrapped, with the cause) when no dialog could be
// shown — no desktop session, no dialog program, an error of the dialog
// program or API — or when it ended without an answer Kyso knows. Nothing
// was allowed: the engine answers NO_DIALOG, not USER_CANCELLED, because
// the person did not decline.
var ErrNoDialog = errors.New("prompt: no dialog could be shown")

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

// Operation is what a signing operation's dialogs and windows show: who
// asks, with which certificate and token, and what is signed. Origin is
// shown first; Description and the documents' file names, titles and
// details come from the page and are marked as unverified.
type Operation struct {
	Origin      string
	Holder      string
	Token       string
	Description string
	Count       int                // signatures to make: >1 shows "sign N documents"
	Documents   []document.Summary // the documents signed, when the operation signs documents
}

// PINRequest is what the PIN dialog (or the PIN pad window) shows: the
// operation, and why it asks again.
type PINRequest struct {
	Operation
	Retry    bool // the previous PIN was wrong
	CountLow bool // the token reports wrong tries
	FinalTry bool // one more wrong PIN locks the token
}

// Shown is a window that tells the person what Kyso waits for, with a
// Cancel button: it asks nothing, and nothing the person does in it lets an
// operation go on. It closes when its ctx ends or on Close.
type Shown interface {
	// Update shows done of the total (progress windows only).
	Update(done int)
	// Done is closed when the window went away by itself: the person
	// cancelled or closed it (Err: ErrCancelled), or it failed (Err wraps
	// ErrNoDialog). A window closed by Close or by its ctx is not Done.
	Done() <-chan struct{}
	Err() error
	// Close closes the window. It may be called more than once.
	Close()
}

// Prompter asks the person at the desktop. Every method opens one dialog or
// window, which closes when ctx ends.
type Prompter interface {
	// ApproveOrigin asks whether origin may use the token.
	ApproveOrigin(ctx context.Context, origin string) (Approval, error)
	// PickCertificate returns the index of the chosen certificate.
	PickCertificate(ctx context.Context, origin string, certs []CertChoice) (int, error)
	// PIN returns the PIN typed; the caller wipes it after use.
	PIN(ctx context.Context, req PINRequest) ([]byte, error)
	// Confirm asks the person to confirm a signing operation that needs
	// no PIN (the token is still logged in from an earlier one): nil only
	// when the person pressed Sign.
	Confirm(ctx context.Context, op Operation) error
	// PINPad shows that the PIN is to be typed on the reader's keypad,
	// while the token waits for it.
	PINPad(ctx context.Context, req PINRequest) (Shown, error)
	// PlugIn asks the person to plug the token in, for origin, while Kyso
	// watches for it.
	PlugIn(ctx context.Context, origin string) (Shown, error)
	// Progress shows the progress of a signing operation (Count
	// signatures) with a Cancel button.
	Progress(ctx context.Context, op Operation) (Shown, error)
}
