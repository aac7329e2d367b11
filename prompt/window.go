package prompt

import (
	"context"
	"strings"
	"sync/atomic"

	"github.com/ncruces/zenity"

	"kyso.vn/kyso/messages"
)

// PlugIn shows the "plug in your token" window: the origin, what to do,
// and that Kyso goes on by itself; a pulsating bar and Cancel.
func (p *native) PlugIn(ctx context.Context, origin string) (Shown, error) {
	text := p.t(messages.PlugInText, showOrigin(origin).plain())
	return p.window(ctx, p.t(messages.PlugInTitle), 0, func(int) string { return text })
}

// PINPad shows, while the token waits for the PIN on the reader's keypad,
// what is signed and that the PIN goes on the keypad (its title says
// PIN, like the PIN dialog's); a pulsating bar and Cancel.
func (p *native) PINPad(ctx context.Context, req PINRequest) (Shown, error) {
	lines := p.operationLines(req.Operation)
	if w := p.pinWarnings(req); w != "" {
		lines = append(lines, "", w)
	}
	lines = append(lines, "", p.t(messages.PadPrompt))
	text := strings.Join(lines, "\n")
	return p.window(ctx, p.t(messages.PadTitle), 0, func(int) string { return text })
}

// Progress shows the progress of a signing operation: what is signed, for
// whom, done of the total; a bar and Cancel.
func (p *native) Progress(ctx context.Context, op Operation) (Shown, error) {
	head := strings.Join(p.operationLines(op), "\n") + "\n\n"
	total := max(op.Count, 1)
	return p.window(ctx, p.t(messages.ProgressTitle), total, func(done int) string {
		return head + p.t(messages.ProgressDone, done, total)
	})
}

// window opens a zenity progress window: a bar of total steps (0: a
// pulsating bar) under text(done), with Cancel. The window has a context
// of its own under ctx, so that Close can always end it (the zenity
// package kills the program when its context ends), and its updates go
// through a goroutine of its own, so that a program that stops reading
// never blocks the caller.
func (p *native) window(ctx context.Context, title string, total int, text func(done int) string) (Shown, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := dialogReady(); err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(ctx)
	opts := []zenity.Option{
		zenity.Context(wctx),
		zenity.Title(title),
		zenity.CancelLabel(p.t(messages.WindowCancel)),
		zenity.OKLabel(p.t(messages.WindowDone)),
		zenity.Width(520),
	}
	if total > 0 {
		opts = append(opts, zenity.MaxValue(total))
	} else {
		opts = append(opts, zenity.Pulsate())
	}
	d, err := zenity.Progress(opts...)
	if err != nil {
		cancel()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, noDialog(err)
	}
	w := &window{d: d, total: total, text: text, cancel: cancel, done: make(chan struct{}), kick: make(chan struct{}, 1)}
	w.latest.Store(0)
	w.kick <- struct{}{} // the first text
	go w.watch(wctx)
	go w.update()
	return w, nil
}

// window is an open progress window.
type window struct {
	d      zenity.ProgressDialog
	total  int
	text   func(done int) string
	cancel context.CancelFunc

	latest  atomic.Int64  // the done count to show
	kick    chan struct{} // a new count to show
	closing atomic.Bool
	done    chan struct{} // closed when it went away by itself
	err     error
}

// watch waits for the window to go away; unless Kyso closed it (Close, or
// ctx), that is the person's doing or a failure: Done.
func (w *window) watch(ctx context.Context) {
	<-w.d.Done()
	err := w.d.Close() // the process is gone: this returns how it ended
	if w.closing.Load() || ctx.Err() != nil {
		return
	}
	w.err = windowEnd(err)
	close(w.done)
}

// update shows the latest count, until the window is gone.
func (w *window) update() {
	for {
		select {
		case <-w.kick:
		case <-w.d.Done():
			return
		}
		n := int(w.latest.Load())
		if w.total > 0 {
			w.d.Value(min(n, w.total))
		}
		w.d.Text(progressText(w.text(n)))
	}
}

func (w *window) Update(done int) {
	if w.total <= 0 {
		return
	}
	w.latest.Store(int64(done))
	select {
	case w.kick <- struct{}{}:
	default: // one is pending: it will show the latest
	}
}

func (w *window) Done() <-chan struct{} { return w.done }

func (w *window) Err() error {
	select {
	case <-w.done:
		return w.err
	default:
		return nil
	}
}

// Close ends the window: its context is cancelled, which kills the
// program, and Close waits for it to be gone.
func (w *window) Close() {
	if w.closing.Swap(true) {
		return
	}
	w.cancel()
	<-w.d.Done()
}
