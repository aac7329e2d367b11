package prompt

import (
	"context"

	"github.com/ncruces/zenity"

	"kyso.vn/kyso/messages"
)

// askPIN: the zenity entry dialog on Windows has a one-line label, too small
// for the origin, holder, token and description. So the details come first
// in a message box (which grows with its text) titled like the PIN dialog,
// and the PIN field follows with a one-line label. The box goes on to the
// PIN field only on its OK button (question_windows.go).
func (p *native) askPIN(ctx context.Context, text, short string) (string, error) {
	err := confirmedBy(p.question(ctx, question{
		title:      p.t(messages.PINTitle),
		text:       text,
		first:      p.t(messages.PINOK),
		cancel:     p.t(messages.PINCancel),
		focusFirst: true,
	}))
	if err != nil {
		return "", err
	}
	s, err := zenity.Entry(entryText(short), p.pinOptions(ctx)...)
	if err := result(ctx, err); err != nil {
		return "", err
	}
	return s, nil
}
