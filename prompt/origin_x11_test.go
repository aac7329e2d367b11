//go:build !windows && !darwin

package prompt

import (
	"context"
	"strings"
	"testing"
	"time"

	"kyso.vn/kyso/internal/testenv"
)

// The 253-character lookalike in each real dialog that names the origin —
// the consent, the picker, the PIN dialog, the confirmation, and the
// plug-in, PIN pad and progress windows: what is on the screen (read back
// by OCR from the Xvfb frame buffer) has the registrable domain, in
// capitals, and the trusted-looking start. Before the fix the origin was
// cut at 200 characters and evil.com was nowhere in the dialogs (issue 16,
// finding 3). The pictures are kept (go test -artifacts).
func TestLookalikeDomainOnScreen(t *testing.T) {
	d := testenv.UseDisplay(t)
	testenv.NeedOCR(t)
	p := Native("vi")
	look := func(title, name string) {
		t.Helper()
		testenv.WaitWindow(t, d, title)
		// Let GTK draw; OCR retries below cover a slow first frame.
		var text string
		for try := 0; try < 5; try++ {
			time.Sleep(300 * time.Millisecond)
			text = testenv.WindowText(t, d, title, t.ArtifactDir(), name)
			if shows(text, "EVIL.COM") {
				break
			}
		}
		if !shows(text, "EVIL.COM") || !shows(text, "https://dichvucong.gov.vn.") || !strings.Contains(text, "...") && !strings.Contains(text, "…") {
			t.Errorf("%s dialog: the registrable domain is not on the screen; OCR read:\n%s", name, text)
		}
		testenv.Cancel(t, d, title)
		testenv.WaitNoWindow(t, d, title)
	}

	waitConsent := answer(t, func() (Approval, error) { return p.ApproveOrigin(context.Background(), lookalike) })
	look(consentTitle, "consent-lookalike")
	waitConsent()

	waitPick := answer(t, func() (int, error) {
		return p.PickCertificate(context.Background(), lookalike, []CertChoice{
			{Holder: "Nguyễn Văn A", Issuer: "VGCA", NotAfter: time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC), Token: "VGCA Token"}})
	})
	look(pickerTitle, "picker-lookalike")
	waitPick()

	waitPIN := answer(t, func() ([]byte, error) {
		return p.PIN(context.Background(), PINRequest{Operation: Operation{Origin: lookalike, Holder: "Nguyễn Văn A", Token: "VGCA Token"}})
	})
	look(pinTitle, "pin-lookalike")
	waitPIN()

	op := Operation{Origin: lookalike, Holder: "Nguyễn Văn A", Token: "VGCA Token", Count: 3}
	waitConfirm := answer(t, func() (struct{}, error) { return struct{}{}, p.Confirm(context.Background(), op) })
	look(confirmTitle, "confirm-lookalike")
	waitConfirm()

	for _, w := range []struct {
		title, name string
		open        func() (Shown, error)
	}{
		{plugInTitle, "plug-in-lookalike", func() (Shown, error) { return p.PlugIn(context.Background(), lookalike) }},
		{padTitle, "pin-pad-lookalike", func() (Shown, error) { return p.PINPad(context.Background(), PINRequest{Operation: op}) }},
		{progressTitle, "progress-lookalike", func() (Shown, error) { return p.Progress(context.Background(), op) }},
	} {
		win, err := w.open()
		if err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		look(w.title, w.name)
		win.Close()
	}
}

// shows reports whether OCR text has want, ignoring case and the spaces
// OCR puts after a dot.
func shows(text, want string) bool {
	squash := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), "")) }
	return strings.Contains(squash(text), squash(want))
}
