package prompt

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"testing"

	"github.com/ncruces/zenity"
)

// The mapping of every way a dialog can end, per OS, to what the person
// did (finding 11: only an explicit Allow / Sign / typed PIN counts). These
// run on every OS; the Windows and macOS dialogs themselves cannot run here
// directly (the Windows build runs under Wine in wine/, whose no-display
// check fails if the consent answers Allow once again).

func TestMsgBoxButton(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		ret  int32
		err  error
		want button
		no   bool // ErrNoDialog
	}{
		{idOK, nil, firstButton, false},
		{idYes, nil, firstButton, false},
		{idNo, nil, secondButton, false},
		{idCancel, nil, cancelButton, false},
		// What the zenity package read as OK: MessageBoxW's -1 with no
		// error (its dialog could not be created, under Wine without a
		// display), and 0 with the call's error.
		{-1, nil, noButton, true},
		{0, syscall.Errno(1400), noButton, true}, // ERROR_INVALID_WINDOW_HANDLE
		{0, nil, noButton, true},
		{3, nil, noButton, true},  // IDABORT: not a button Kyso shows
		{11, nil, noButton, true}, // IDCONTINUE
		{32000, nil, noButton, true},
	} {
		got, err := msgBoxButton(ctx, c.ret, c.err)
		if got != c.want || errors.Is(err, ErrNoDialog) != c.no || (err == nil) == c.no {
			t.Errorf("MessageBoxW %d, %v: %v, %v; want %v (no dialog %v)", c.ret, c.err, got, err, c.want, c.no)
		}
	}
	// A box closed because ctx ended answered Cancel; that is no answer.
	done, cancel := context.WithCancel(ctx)
	cancel()
	if got, err := msgBoxButton(done, idOK, nil); got != noButton || !errors.Is(err, context.Canceled) {
		t.Errorf("after ctx ended: %v, %v", got, err)
	}
}

// exitErr runs sh -c "exit n" to get a real *exec.ExitError of status n.
func exitErr(t *testing.T, script string) error {
	t.Helper()
	_, err := exec.Command("sh", "-c", script).Output()
	if err == nil {
		t.Fatalf("%q exited 0", script)
	}
	return err
}

func TestZenityButton(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		err  error
		want button
		no   bool
	}{
		{"status 0: OK", nil, firstButton, false},
		{"extra button", zenity.ErrExtraButton, secondButton, false},
		{"status 1: Cancel, Escape, window closed", zenity.ErrCanceled, cancelButton, false},
		{"status 5 (zenity's time-out, never asked for)", fmt.Errorf("%w: ", exitErr(t, "exit 5")), noButton, true},
		{"status 255 (zenity's error)", fmt.Errorf("%w: ", exitErr(t, "exit 255")), noButton, true},
		{"killed by a signal", fmt.Errorf("%w: ", exitErr(t, "kill -9 $$")), noButton, true},
		{"program missing", exec.ErrNotFound, noButton, true},
		{"osascript error (macOS)", errors.New("exit status 2: execution error"), noButton, true},
	} {
		got, err := zenityButton(ctx, c.err)
		if got != c.want || errors.Is(err, ErrNoDialog) != c.no {
			t.Errorf("%s: %v, %v; want %v (no dialog %v)", c.name, got, err, c.want, c.no)
		}
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if got, err := zenityButton(done, nil); got != noButton || !errors.Is(err, context.Canceled) {
		t.Errorf("after ctx ended: %v, %v", got, err)
	}
}

func TestAnswersFailClosed(t *testing.T) {
	nd := noDialog(errors.New("x"))
	for _, c := range []struct {
		b    button
		err  error
		want Approval
		werr error
	}{
		{firstButton, nil, AllowOnce, nil},
		{secondButton, nil, AllowAlways, nil},
		{cancelButton, nil, Deny, ErrCancelled},
		{noButton, nil, Deny, ErrNoDialog},
		{noButton, nd, Deny, ErrNoDialog},
		{firstButton, context.DeadlineExceeded, Deny, context.DeadlineExceeded},
	} {
		got, err := approvalOf(c.b, c.err)
		if got != c.want || !errors.Is(err, c.werr) || (c.werr == nil) != (err == nil) {
			t.Errorf("approvalOf(%v, %v) = %v, %v; want %v, %v", c.b, c.err, got, err, c.want, c.werr)
		}
	}
	for _, c := range []struct {
		b    button
		err  error
		werr error
	}{
		{firstButton, nil, nil},
		{cancelButton, nil, ErrCancelled},
		{secondButton, nil, ErrNoDialog}, // a confirmation has no second button
		{noButton, nil, ErrNoDialog},
		{noButton, nd, ErrNoDialog},
	} {
		err := confirmedBy(c.b, c.err)
		if !errors.Is(err, c.werr) || (c.werr == nil) != (err == nil) {
			t.Errorf("confirmedBy(%v, %v) = %v; want %v", c.b, c.err, err, c.werr)
		}
	}
	ctx := context.Background()
	if err := result(ctx, nil); err != nil {
		t.Errorf("entry OK: %v", err)
	}
	if err := result(ctx, zenity.ErrCanceled); !errors.Is(err, ErrCancelled) {
		t.Errorf("entry cancelled: %v", err)
	}
	if err := result(ctx, exitErr(t, "exit 3")); !errors.Is(err, ErrNoDialog) {
		t.Errorf("entry status 3: %v", err)
	}
	if err := windowEnd(zenity.ErrCanceled); !errors.Is(err, ErrCancelled) {
		t.Errorf("window cancelled: %v", err)
	}
	if err := windowEnd(exitErr(t, "exit 4")); !errors.Is(err, ErrNoDialog) {
		t.Errorf("window status 4: %v", err)
	}
}
