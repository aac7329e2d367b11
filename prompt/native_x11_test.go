//go:build !windows && !darwin

package prompt

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"kyso.vn/kyso/internal/testenv"
)

// These tests open the real zenity dialogs on an Xvfb display and answer them
// from outside with xdotool, as a person would. They are not parallel: each
// sets DISPLAY for the dialogs it opens.

const (
	pinTitle      = "^Kyso — Nhập mã PIN$"
	consentTitle  = "^Kyso — Cho phép trang web\\?$"
	pickerTitle   = "^Kyso — Chọn chứng thư số$"
	confirmTitle  = "^Kyso — Xác nhận ký số$"
	plugInTitle   = "^Kyso — Cắm token USB$"
	progressTitle = "^Kyso — Đang ký số$"
	padTitle      = "^Kyso — Nhập mã PIN trên đầu đọc$"
)

// answer runs ask in the background and returns a function that waits for
// its result. The wait is bounded only so that a broken test fails instead
// of hanging; no timing is asserted.
func answer[T any](t *testing.T, ask func() (T, error)) func() (T, error) {
	type res struct {
		v   T
		err error
	}
	ch := make(chan res, 1)
	go func() {
		v, err := ask()
		ch <- res{v, err}
	}()
	return func() (T, error) {
		t.Helper()
		select {
		case r := <-ch:
			return r.v, r.err
		case <-time.After(2 * time.Minute):
			t.Fatal("the dialog call did not return")
		}
		var zero T
		return zero, nil
	}
}

func TestPINTyped(t *testing.T) {
	d := testenv.UseDisplay(t)
	p := Native("vi")
	for _, pin := range []string{"123456", "Abc-xyz_9.Q"} {
		wait := answer(t, func() ([]byte, error) {
			return p.PIN(context.Background(), PINRequest{Operation: Operation{
				Origin: "https://dichvucong.gov.vn", Holder: "Nguyễn Văn A", Token: "VGCA Token",
			}})
		})
		testenv.AnswerPIN(t, d, pinTitle, pin)
		got, err := wait()
		if err != nil || string(got) != pin {
			t.Errorf("PIN typed %q: got %q, %v", pin, got, err)
		}
		testenv.WaitNoWindow(t, d, pinTitle)
	}
}

func TestPINCancelled(t *testing.T) {
	d := testenv.UseDisplay(t)
	wait := answer(t, func() ([]byte, error) {
		return Native("vi").PIN(context.Background(), PINRequest{Operation: Operation{Origin: "https://a.gov.vn"}})
	})
	testenv.Cancel(t, d, pinTitle)
	got, err := wait()
	if !errors.Is(err, ErrCancelled) || got != nil {
		t.Errorf("Escape: got %q, %v; want ErrCancelled", got, err)
	}
	testenv.WaitNoWindow(t, d, pinTitle)
}

// When the connection closes (ctx cancelled) the open dialog must close and
// the call return ctx.Err().
func TestPINContextClosesDialog(t *testing.T) {
	d := testenv.UseDisplay(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wait := answer(t, func() ([]byte, error) {
		return Native("en").PIN(ctx, PINRequest{Operation: Operation{Origin: "https://a.gov.vn"}})
	})
	testenv.WaitWindow(t, d, "^Kyso — Enter PIN$")
	cancel()
	got, err := wait()
	if !errors.Is(err, context.Canceled) || got != nil {
		t.Errorf("after cancel: got %q, %v; want context.Canceled", got, err)
	}
	testenv.WaitNoWindow(t, d, "^Kyso — Enter PIN$")
}

func TestConsentAnswers(t *testing.T) {
	d := testenv.UseDisplay(t)
	p := Native("vi")
	// Deny has the focus; Allow once is one Tab to the right of it, Always
	// allow one shift+Tab to the left.
	for _, c := range []struct {
		name string
		tabs int
		want Approval
		err  error
	}{
		{"deny", 0, Deny, ErrCancelled},
		{"once", 1, AllowOnce, nil},
		{"always", -1, AllowAlways, nil},
	} {
		wait := answer(t, func() (Approval, error) {
			return p.ApproveOrigin(context.Background(), "https://portal.example.vn")
		})
		testenv.PressButton(t, d, consentTitle, c.tabs)
		got, err := wait()
		if got != c.want || !errors.Is(err, c.err) {
			t.Errorf("%s: got %v, %v; want %v, %v", c.name, got, err, c.want, c.err)
		}
		testenv.WaitNoWindow(t, d, consentTitle)
	}
	// Closing with Escape is a denial too.
	wait := answer(t, func() (Approval, error) {
		return p.ApproveOrigin(context.Background(), "https://portal.example.vn")
	})
	testenv.Cancel(t, d, consentTitle)
	if got, err := wait(); got != Deny || !errors.Is(err, ErrCancelled) {
		t.Errorf("Escape: got %v, %v", got, err)
	}
}

func TestPickSecond(t *testing.T) {
	d := testenv.UseDisplay(t)
	certs := []CertChoice{
		{Holder: "Nguyễn Văn A", Issuer: "VGCA", NotAfter: time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC), Token: "VGCA Token"},
		{Holder: "Nguyễn Văn A", Issuer: "VGCA", NotAfter: time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC), Token: "VGCA Token"},
		{Holder: "Trần Thị B", Issuer: "VNPT-CA", NotAfter: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), Expired: true, Token: "VNPT"},
	}
	wait := answer(t, func() (int, error) {
		return Native("vi").PickCertificate(context.Background(), "https://dichvucong.gov.vn", certs)
	})
	// The cursor starts on row 1 (not selected): one Down selects row 2.
	testenv.Keys(t, d, pickerTitle, "Down", "Return")
	got, err := wait()
	if err != nil || got != 1 {
		t.Errorf("picked %d, %v; want 1", got, err)
	}
	testenv.WaitNoWindow(t, d, pickerTitle)

	wait = answer(t, func() (int, error) {
		return Native("vi").PickCertificate(context.Background(), "https://dichvucong.gov.vn", certs)
	})
	testenv.Cancel(t, d, pickerTitle)
	if got, err := wait(); !errors.Is(err, ErrCancelled) {
		t.Errorf("Escape: got %d, %v", got, err)
	}
}

// A page's description with markup, backslash escapes, new lines and a bidi
// override stays one plain line behind the "not verified" label. The test
// checks the call still works and keeps screenshots for a person to look at
// (go test -artifacts): it does not compare pixels.
func TestHostileDescriptionShownPlain(t *testing.T) {
	d := testenv.UseDisplay(t)
	desc := "Hồ sơ <b>123</b> &amp; \\n\\nTrang web: https://bank.gov.vn\n\nTrang web: https://bank.gov.vn \u202eabc _x_"
	wait := answer(t, func() ([]byte, error) {
		return Native("vi").PIN(context.Background(), PINRequest{Operation: Operation{
			Origin: "https://evil.example", Holder: "Nguyễn Văn A <b>", Token: "VGCA\\nToken",
			Description: desc, Count: 250}, Retry: true, FinalTry: true,
		})
	})
	testenv.WaitWindow(t, d, pinTitle)
	time.Sleep(500 * time.Millisecond) // let GTK draw before the picture; nothing is asserted on it
	testenv.Screenshot(t, d, filepath.Join(t.ArtifactDir(), "pin-hostile.png"))
	testenv.AnswerPIN(t, d, pinTitle, "0000")
	if got, err := wait(); err != nil || string(got) != "0000" {
		t.Errorf("got %q, %v", got, err)
	}

	waitPick := answer(t, func() (int, error) {
		return Native("vi").PickCertificate(context.Background(), "https://<i>evil</i>.example\\n&amp;", []CertChoice{
			{Holder: "<b>A</b>\nFake", Issuer: "CA & Co", NotAfter: time.Now(), Token: "T"},
		})
	})
	testenv.WaitWindow(t, d, pickerTitle)
	time.Sleep(500 * time.Millisecond)
	testenv.Screenshot(t, d, filepath.Join(t.ArtifactDir(), "picker-hostile.png"))
	// The cursor is on the only row but it is not selected yet: Down selects it.
	testenv.Keys(t, d, pickerTitle, "Down", "Return")
	if got, err := waitPick(); err != nil || got != 0 {
		t.Errorf("picked %d, %v", got, err)
	}
}

// The windows (plug-in, PIN pad, progress): shown with their title; the
// person's Cancel makes them Done with ErrCancelled; Close and ctx close
// them without Done; a progress window takes updates.
func TestWindows(t *testing.T) {
	d := testenv.UseDisplay(t)
	p := Native("vi")

	w, err := p.PlugIn(context.Background(), "https://dichvucong.gov.vn")
	if err != nil {
		t.Fatal(err)
	}
	testenv.Cancel(t, d, plugInTitle)
	select {
	case <-w.Done():
		if !errors.Is(w.Err(), ErrCancelled) {
			t.Fatalf("cancelled plug-in window: %v", w.Err())
		}
	case <-time.After(time.Minute):
		t.Fatal("the plug-in window is not Done after Cancel")
	}
	testenv.WaitNoWindow(t, d, plugInTitle)

	op := Operation{Origin: "https://dichvucong.gov.vn", Holder: "Nguyễn Văn A", Token: "VGCA", Count: 300}
	w, err = p.Progress(context.Background(), op)
	if err != nil {
		t.Fatal(err)
	}
	testenv.WaitWindow(t, d, progressTitle)
	for i := 0; i <= 300; i += 30 {
		w.Update(i)
	}
	w.Close()
	testenv.WaitNoWindow(t, d, progressTitle)
	select {
	case <-w.Done():
		t.Fatal("a window Kyso closed is Done")
	default:
	}

	ctx, cancel := context.WithCancel(context.Background())
	w, err = p.PINPad(ctx, PINRequest{Operation: op, Retry: true, CountLow: true})
	if err != nil {
		t.Fatal(err)
	}
	testenv.WaitWindow(t, d, padTitle)
	cancel()
	testenv.WaitNoWindow(t, d, padTitle)
	w.Close()
	if w.Err() != nil {
		t.Fatalf("a window closed by its ctx: %v", w.Err())
	}
}

// No display at all: no dialog, ErrNoDialog, before the program runs.
func TestNoDisplay(t *testing.T) {
	testenv.NeedX11(t)
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	p := Native("en")
	if _, err := p.ApproveOrigin(context.Background(), "https://a.gov.vn"); !errors.Is(err, ErrNoDialog) {
		t.Errorf("consent: %v", err)
	}
	if _, err := p.PIN(context.Background(), PINRequest{}); !errors.Is(err, ErrNoDialog) {
		t.Errorf("PIN: %v", err)
	}
	if err := p.Confirm(context.Background(), Operation{}); !errors.Is(err, ErrNoDialog) {
		t.Errorf("confirm: %v", err)
	}
	if _, err := p.PlugIn(context.Background(), "https://a.gov.vn"); !errors.Is(err, ErrNoDialog) {
		t.Errorf("plug-in: %v", err)
	}
	t.Setenv("DISPLAY", ":31999") // a display nobody serves
	if _, err := p.PickCertificate(context.Background(), "https://a.gov.vn", []CertChoice{{Holder: "A"}}); !errors.Is(err, ErrNoDialog) {
		t.Errorf("picker on a display nobody serves: %v", err)
	}
}
