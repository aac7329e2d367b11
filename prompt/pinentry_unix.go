//go:build !windows

package prompt

import (
	"context"

	"github.com/ncruces/zenity"
)

// askPIN shows the whole text above the password field: the GTK and macOS
// entry dialogs grow with their text.
func (p *native) askPIN(ctx context.Context, text, _ string) (string, error) {
	if err := dialogReady(); err != nil {
		return "", err
	}
	s, err := zenity.Entry(entryText(text), p.pinOptions(ctx)...)
	if err := result(ctx, err); err != nil {
		return "", err
	}
	return s, nil
}
