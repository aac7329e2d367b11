package prompt

import (
	"context"
	"errors"
	"fmt"

	"github.com/ncruces/zenity"
)

// Dialogs fail closed: each way a dialog can end is mapped here, on every
// OS, to what the person did — and only an explicit button or a typed PIN
// is an answer. These functions are pure, so the mapping of each OS is
// tested on any OS (answers_test.go): Windows and macOS cannot run their
// dialogs here.

// button is the answer a question dialog gave, as far as Kyso can tell.
type button int

const (
	noButton     button = iota // no known answer: the dialog failed, or said something unknown
	firstButton                // the first positive button: Allow once, Sign, Continue
	secondButton               // the second positive button: Always allow
	cancelButton               // Cancel or Deny pressed, Escape, or the window closed
)

// zenityButton maps what a question of the zenity package returned on
// Linux (the zenity program's exit status) and macOS (osascript's).
//   - nil: status 0, which only the OK button gives;
//   - ErrExtraButton: status 1 with the extra button's label on stdout;
//   - ErrCanceled: status 1 — Cancel, Escape or the window closed; but
//     also GTK failing to open the display (so the display is checked
//     first, dialogReady) and, on macOS, any osascript error;
//   - anything else (another status, a signal, the program missing): no
//     dialog.
//
// ctx ending wins: a dialog closed because its time was up or the page
// went away is no answer.
func zenityButton(ctx context.Context, err error) (button, error) {
	switch {
	case ctx.Err() != nil:
		return noButton, ctx.Err()
	case err == nil:
		return firstButton, nil
	case errors.Is(err, zenity.ErrExtraButton):
		return secondButton, nil
	case errors.Is(err, zenity.ErrCanceled):
		return cancelButton, nil
	}
	return noButton, noDialog(err)
}

// MessageBoxW's answers (winuser.h).
const (
	idOK     = 1
	idCancel = 2
	idYes    = 6
	idNo     = 7
)

// msgBoxButton maps what MessageBoxW returned on Windows. Only the ids of
// the buttons Kyso put in the box are answers. Anything else is none:
// 0 with the call's error, and -1 with no error at all, which MessageBoxW
// returns when its dialog cannot be created (seen under Wine without a
// display). The zenity package reads every value but the button ids as
// its error, which is nil then: that nil was read as "Allow once"
// (SECURITY.md, finding 11), which is why Kyso calls MessageBoxW itself.
func msgBoxButton(ctx context.Context, ret int32, err error) (button, error) {
	if ctx.Err() != nil {
		return noButton, ctx.Err()
	}
	switch ret {
	case idOK, idYes:
		return firstButton, nil
	case idNo:
		return secondButton, nil
	case idCancel:
		return cancelButton, nil
	}
	return noButton, noDialog(fmt.Errorf("MessageBoxW returned %d (%v)", ret, err))
}

// approvalOf is the consent dialog's answer: Allow once is the first
// button, Always allow the second, Deny the cancel button.
func approvalOf(b button, err error) (Approval, error) {
	if err != nil {
		return Deny, err
	}
	switch b {
	case firstButton:
		return AllowOnce, nil
	case secondButton:
		return AllowAlways, nil
	case cancelButton:
		return Deny, ErrCancelled
	}
	return Deny, noDialog(errors.New("the consent dialog gave no known answer"))
}

// confirmedBy is a yes/no question's answer: only the first button says
// yes.
func confirmedBy(b button, err error) error {
	if err != nil {
		return err
	}
	switch b {
	case firstButton:
		return nil
	case cancelButton:
		return ErrCancelled
	}
	return noDialog(errors.New("the dialog gave no known answer"))
}

// result maps what an entry or list dialog returned with its text: nil
// means the person pressed OK (the text is theirs), ErrCanceled that they
// cancelled; anything else is no dialog. ctx ending wins.
func result(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err == nil:
		return nil
	case errors.Is(err, zenity.ErrCanceled):
		return ErrCancelled
	}
	return noDialog(err)
}

// windowEnd maps how a window (PlugIn, PINPad, Progress) went away by
// itself: any end Kyso did not cause is the person closing it — Cancel,
// the window's close button, or OK once a progress bar is full — except an
// error of the dialog program or API, which is no dialog.
func windowEnd(err error) error {
	if err == nil || errors.Is(err, zenity.ErrCanceled) {
		return ErrCancelled
	}
	return noDialog(err)
}

// maxEmpty is how many empty answers in a row a PIN or list dialog may
// give before it counts as no dialog. A person pressing OK on an empty
// field is asked again; a dialog program that keeps answering nothing at
// once (broken, or not a dialog at all) would otherwise be run in a loop.
const maxEmpty = 5

func noDialog(err error) error { return fmt.Errorf("%w: %w", ErrNoDialog, err) }
