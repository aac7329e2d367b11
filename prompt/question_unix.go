//go:build !windows

package prompt

import (
	"context"

	"github.com/ncruces/zenity"
)

// question shows q with the zenity package: the zenity program on Linux
// (after checking that there is a display to show it on), osascript on
// macOS. The first button is OK, the second the extra button.
func (p *native) question(ctx context.Context, q question) (button, error) {
	if err := dialogReady(); err != nil {
		return noButton, err
	}
	opts := []zenity.Option{
		zenity.Context(ctx),
		zenity.Title(q.title),
		zenity.OKLabel(q.first),
		zenity.CancelLabel(q.cancel),
	}
	if q.second != "" {
		opts = append(opts, zenity.ExtraButton(q.second))
	}
	if !q.focusFirst {
		opts = append(opts, zenity.DefaultCancel())
	}
	if q.icon {
		opts = append(opts, zenity.QuestionIcon)
	}
	if q.width > 0 {
		opts = append(opts, zenity.Width(q.width))
	}
	return zenityButton(ctx, zenity.Question(questionText(q.text), opts...))
}
