package prompt

import (
	"context"
	"encoding/hex"
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
// The questions on Windows are MessageBoxW called by Kyso itself
// (question_windows.go), so that only a button's id is an answer.
//
// Every dialog closes when ctx ends (its time is up, the connection
// closed) and the method then returns ctx.Err(); a person declining or
// closing a dialog gives ErrCancelled; a dialog that cannot be shown or
// fails gives ErrNoDialog (answers.go).
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

// question is a dialog with one or two positive buttons and a cancel
// button; question_unix.go and question_windows.go show it.
type question struct {
	title, text   string
	first, second string // labels of the positive buttons; second may be ""
	cancel        string
	width         uint
	icon          bool // a question icon
	focusFirst    bool // the first button has the focus (else cancel has it)
}

// ApproveOrigin asks whether origin may use the token. Deny has the focus, so
// a stray Enter denies. The Deny button and closing the window are one answer
// for the dialog (zenity cannot tell them apart): (Deny, ErrCancelled).
func (p *native) ApproveOrigin(ctx context.Context, origin string) (Approval, error) {
	if err := ctx.Err(); err != nil {
		return Deny, err
	}
	return approvalOf(p.question(ctx, question{
		title:  p.t(messages.ConsentTitle),
		text:   p.t(messages.ConsentText, showOrigin(origin).plain()),
		first:  p.t(messages.ConsentOnce),
		second: p.t(messages.ConsentAlways),
		cancel: p.t(messages.ConsentDeny),
		width:  460,
		icon:   true,
	}))
}

// Confirm asks the person to confirm a signing operation that needs no
// PIN. Cancel has the focus; only Sign goes on.
func (p *native) Confirm(ctx context.Context, op Operation) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	lines := append(p.operationLines(op), "", p.t(messages.ConfirmPrompt))
	return confirmedBy(p.question(ctx, question{
		title:  p.t(messages.ConfirmTitle),
		text:   strings.Join(lines, "\n"),
		first:  p.t(messages.ConfirmOK),
		cancel: p.t(messages.ConfirmCancel),
		width:  520,
		icon:   true,
	}))
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
	for empty := 0; ; empty++ {
		if err := ctx.Err(); err != nil {
			return -1, err
		}
		if empty == maxEmpty {
			return -1, noDialog(errors.New("the list kept answering nothing"))
		}
		if err := dialogReady(); err != nil {
			return -1, err
		}
		got, err := zenity.List(text, items,
			p.options(ctx, pickerLabels, zenity.DisallowEmpty(), zenity.Width(640), zenity.Height(320))...)
		if err := result(ctx, err); err != nil {
			return -1, err
		}
		if got == "" {
			// OK with nothing selected (the Linux list cannot forbid
			// it): ask again rather than guess.
			continue
		}
		// Each line starts with its number, so lines are unique even for two
		// certificates that read alike, and the number is the answer.
		num, _, _ := strings.Cut(got, ".")
		if i, err := strconv.Atoi(num); err == nil && i >= 1 && i <= len(certs) && got == items[i-1] {
			return i - 1, nil
		}
		return -1, noDialog(fmt.Errorf("the list answered a line it was not given (%d bytes)", len(got)))
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

// Documents listed by name in a signing dialog; the others are counted.
const (
	maxDocsShown    = 5
	maxDetailsShown = 4
)

// operationLines are the lines every signing dialog shows about op, the
// origin first (showOrigin): what is signed (one hash, N hashes, or the documents with
// their file name, title, pages, SHA-256 prefix and details), the
// certificate's holder, the token, and the page's description as a quote
// marked unverified. Text from outside goes through oneLine.
func (p *native) operationLines(op Operation) []string {
	lines := []string{p.t(messages.PINOrigin, showOrigin(op.Origin).plain())}
	switch {
	case len(op.Documents) > 0:
		lines = append(lines, p.t(messages.SignDocuments, len(op.Documents)))
		for i, d := range op.Documents {
			if i == maxDocsShown {
				lines = append(lines, "  "+p.t(messages.DocMore, len(op.Documents)-i))
				break
			}
			parts := []string{oneLine(d.FileName, maxName)}
			if d.Title != "" {
				parts = append(parts, "“"+oneLine(d.Title, maxName)+"”")
			}
			if d.Pages > 0 {
				parts = append(parts, p.t(messages.DocPages, d.Pages))
			}
			parts = append(parts, p.t(messages.DocSHA256, hex.EncodeToString(d.SHA256[:8])))
			lines = append(lines, "  • "+strings.Join(nonEmpty(parts), " — "))
			for j, det := range d.Details {
				if j == maxDetailsShown {
					break
				}
				lines = append(lines, "      "+oneLine(p.t(messages.DocDetail(det.Label)), maxName)+": "+oneLine(det.Value, maxName))
			}
		}
	case op.Count > 1:
		lines = append(lines, p.t(messages.PINSignN, op.Count))
	default:
		lines = append(lines, p.t(messages.PINSignOne))
	}
	if op.Holder != "" {
		lines = append(lines, p.t(messages.PINHolder, oneLine(op.Holder, maxName)))
	}
	if op.Token != "" {
		lines = append(lines, p.t(messages.PINToken, oneLine(op.Token, maxName)))
	}
	if d := oneLine(op.Description, maxDescription); d != "" {
		// Wrapped by us (the GTK entry label does not wrap, and would grow
		// wider than the screen), each line marked as part of the quote, so
		// a line the page makes start with "Trang web:" still reads as the
		// page's words.
		lines = append(lines, "", p.t(messages.PINDescription))
		for _, l := range wrap("“"+d+"”", descriptionWidth) {
			lines = append(lines, "│ "+l)
		}
	}
	return lines
}

func nonEmpty(s []string) []string {
	out := s[:0]
	for _, x := range s {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

// pinWarnings is the warning line of a PIN dialog or PIN pad window that
// asks again, "" when there is none.
func (p *native) pinWarnings(req PINRequest) string {
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
	if len(warn) == 0 {
		return ""
	}
	return "⚠ " + strings.Join(warn, " ")
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
// only spend one of the token's tries): the dialog asks again, up to
// maxEmpty times in a row.
func (p *native) PIN(ctx context.Context, req PINRequest) ([]byte, error) {
	lines := p.operationLines(req.Operation)
	if w := p.pinWarnings(req); w != "" {
		lines = append(lines, "", w)
	}
	lines = append(lines, "", p.t(messages.PINPrompt))
	text := strings.Join(lines, "\n")
	short := p.t(messages.PINPromptShort, oneLine(req.Token, maxName))

	for empty := 0; ; empty++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if empty == maxEmpty {
			return nil, noDialog(errors.New("the PIN dialog kept answering nothing"))
		}
		s, err := p.askPIN(ctx, text, short)
		if err != nil {
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
