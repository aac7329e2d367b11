package prompt

import "context"

// MessageBoxW's types and flags (winuser.h).
const (
	mbOKCancel      = 0x00000001
	mbYesNoCancel   = 0x00000003
	mbIconQuestion  = 0x00000020
	mbDefButton2    = 0x00000100
	mbDefButton3    = 0x00000200
	mbSetForeground = 0x00010000
	mbTopmost       = 0x00040000
)

// question shows q in a MessageBoxW that Kyso calls itself (msgbox_windows.go):
// OK/Cancel, or Yes/No/Cancel with two positive buttons, relabelled. Only
// the id of a button is an answer (msgBoxButton); Escape and the close box
// give Cancel.
func (p *native) question(ctx context.Context, q question) (button, error) {
	flags := uint32(mbOKCancel | mbSetForeground | mbTopmost)
	labels := map[int32]string{idOK: q.first, idCancel: q.cancel}
	if q.second != "" {
		flags = mbYesNoCancel | mbSetForeground | mbTopmost
		labels = map[int32]string{idYes: q.first, idNo: q.second, idCancel: q.cancel}
	}
	if !q.focusFirst {
		if q.second != "" {
			flags |= mbDefButton3
		} else {
			flags |= mbDefButton2
		}
	}
	if q.icon {
		flags |= mbIconQuestion
	}
	ret, err := messageBox(ctx, q.title, q.text, flags, labels)
	return msgBoxButton(ctx, ret, err)
}
