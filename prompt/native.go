package prompt

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ncruces/zenity"

	"kyso.vn/kyso/messages"
)

// Native returns the Prompter of the shipped binary: real dialogs through
// github.com/ncruces/zenity (the zenity program on Linux, native APIs on
// Windows and macOS), in lang ("vi" or "en"; "" means messages.Lang()).
//
// Every dialog closes when ctx ends (timeout, connection closed) and the
// method then returns ctx.Err(); a person declining or closing a dialog gives
// ErrCancelled.
func Native(lang string) Prompter {
	if lang != "vi" && lang != "en" {
		lang = messages.Lang()
	}
	return &native{lang: lang}
}

type native struct {
	lang string
}

func (p *native) t(m messages.Text, args ...any) string { return m.In(p.lang, args...) }

// result maps what zenity returns to the Prompter contract.
func result(ctx context.Context, err error) error {
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, zenity.ErrCanceled):
		return ErrCancelled
	default:
		return fmt.Errorf("prompt: dialog failed: %w", err)
	}
}

// ApproveOrigin asks whether origin may use the token. Deny has the focus, so
// a stray Enter denies. The Deny button and closing the window are one answer
// for the dialog (zenity cannot tell them apart): (Deny, ErrCancelled).
func (p *native) ApproveOrigin(ctx context.Context, origin string) (Approval, error) {
	if err := ctx.Err(); err != nil {
		return Deny, err
	}
	text := questionText(p.t(messages.ConsentText, showOrigin(origin).plain()))
	err := zenity.Question(text,
		zenity.Context(ctx),
		zenity.Title(p.t(messages.ConsentTitle)),
		zenity.OKLabel(p.t(messages.ConsentOnce)),
		zenity.ExtraButton(p.t(messages.ConsentAlways)),
		zenity.CancelLabel(p.t(messages.ConsentDeny)),
		zenity.DefaultCancel(),
		zenity.QuestionIcon,
		zenity.Width(460),
	)
	switch {
	case err == nil:
		return AllowOnce, nil
	case errors.Is(err, zenity.ErrExtraButton) && ctx.Err() == nil:
		return AllowAlways, nil
	}
	return Deny, result(ctx, err)
}

// PickCertificate lists the certificates and returns the index chosen.
// It asks even when there is only one certificate: choosing it is the
// person's consent to give that identity (name, ID number in the subject) to
// the page, and shows which identity the page will get.
func (p *native) PickCertificate(ctx context.Context, origin string, certs []CertChoice) (int, error) {
	if len(certs) == 0 {
		return -1, errors.New("prompt: no certificate to choose from")
	}
	items := make([]string, len(certs))
	for i, c := range certs {
		items[i] = p.certLine(i+1, c)
	}
	text := fmt.Sprintf(listText(p.t(messages.PickerText)), showOrigin(origin).listMarkup())
	for {
		if err := ctx.Err(); err != nil {
			return -1, err
		}
		got, err := zenity.List(text, items,
			p.options(ctx, pickerLabels, zenity.DisallowEmpty(), zenity.Width(640), zenity.Height(320))...)
		if err := result(ctx, err); err != nil {
			return -1, err
		}
		// Each line starts with its number, so lines are unique even for two
		// certificates that read alike, and the number is the answer.
		num, _, _ := strings.Cut(got, ".")
		if i, err := strconv.Atoi(num); err == nil && i >= 1 && i <= len(certs) && got == items[i-1] {
			return i - 1, nil
		}
		// OK with nothing selected (the Linux list cannot forbid it): ask
		// again rather than guess.
	}
}

func (p *native) certLine(n int, c CertChoice) string {
	until := c.NotAfter.Local().Format(p.t(messages.DateLayout))
	if c.Expired {
		until += " " + p.t(messages.PickerExpired)
	}
	return p.t(messages.PickerItem, n,
		oneLine(c.Holder, maxName), oneLine(c.Issuer, maxName), until, oneLine(c.Token, maxName))
}

// PIN asks for the PIN. The origin is the first line; the page's description
// comes last before the prompt, on one line of its own, behind a label saying
// the page wrote it.
//
// The dialog returns the PIN as a Go string (the zenity package reads it from
// the program's output or the edit control). Strings cannot be wiped: the
// copy is converted to bytes at once and dropped, and the caller wipes the
// returned bytes; the string and the package's buffers are left to the
// garbage collector. An empty PIN is not returned (a login with it would
// only spend one of the token's tries): the dialog asks again.
func (p *native) PIN(ctx context.Context, req PINRequest) ([]byte, error) {
	lines := []string{
		p.t(messages.PINOrigin, showOrigin(req.Origin).plain()),
		p.t(messages.PINSignOne),
	}
	if req.Count > 1 {
		lines[1] = p.t(messages.PINSignN, req.Count)
	}
	if req.Holder != "" {
		lines = append(lines, p.t(messages.PINHolder, oneLine(req.Holder, maxName)))
	}
	if req.Token != "" {
		lines = append(lines, p.t(messages.PINToken, oneLine(req.Token, maxName)))
	}
	if d := oneLine(req.Description, maxDescription); d != "" {
		// Wrapped by us (the GTK entry label does not wrap, and would grow
		// wider than the screen), each line marked as part of the quote, so
		// a line the page makes start with "Trang web:" still reads as the
		// page's words.
		lines = append(lines, "", p.t(messages.PINDescription))
		for _, l := range wrap("“"+d+"”", descriptionWidth) {
			lines = append(lines, "│ "+l)
		}
	}
	var warn []string
	if req.Retry {
		warn = append(warn, p.t(messages.PINWrong))
	}
	switch {
	case req.FinalTry:
		warn = append(warn, p.t(messages.PINFinalTry))
	case req.CountLow:
		warn = append(warn, p.t(messages.PINCountLow))
	}
	if len(warn) > 0 {
		lines = append(lines, "", "⚠ "+strings.Join(warn, " "))
	}
	lines = append(lines, "", p.t(messages.PINPrompt))
	text := strings.Join(lines, "\n")
	short := p.t(messages.PINPromptShort, oneLine(req.Token, maxName))

	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s, err := p.askPIN(ctx, text, short)
		if err := result(ctx, err); err != nil {
			return nil, err
		}
		if s != "" {
			return []byte(s), nil
		}
	}
}

// pinOptions are the options of the PIN entry on every OS.
func (p *native) pinOptions(ctx context.Context) []zenity.Option {
	return p.options(ctx, pinLabels, zenity.HideText(), zenity.Width(480))
}

// labels are a dialog's title and OK/Cancel labels.
type labels struct{ title, ok, cancel messages.Text }

var (
	pickerLabels = labels{messages.PickerTitle, messages.PickerOK, messages.PickerCancel}
	pinLabels    = labels{messages.PINTitle, messages.PINOK, messages.PINCancel}
)

// options are a dialog's context, title and OK/Cancel labels, followed by
// extra.
func (p *native) options(ctx context.Context, l labels, extra ...zenity.Option) []zenity.Option {
	return append([]zenity.Option{
		zenity.Context(ctx),
		zenity.Title(p.t(l.title)),
		zenity.OKLabel(p.t(l.ok)),
		zenity.CancelLabel(p.t(l.cancel)),
	}, extra...)
}
