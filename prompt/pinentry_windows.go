package prompt

import (
	"context"

	"github.com/ncruces/zenity"
)

// askPIN: the zenity entry dialog on Windows has a one-line label, too small
// for the origin, holder, token and description. So the details come first
// in a message box (which grows with its text) titled like the PIN dialog,
// and the PIN field follows with a one-line label.
func (p *native) askPIN(ctx context.Context, text, short string) (string, error) {
	err := zenity.Question(entryText(text),
		p.options(ctx, pinLabels, zenity.NoIcon)...)
	if err != nil {
		return "", err
	}
	return zenity.Entry(entryText(short), p.pinOptions(ctx)...)
}
