package prompt

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Kyso's questions on Windows are MessageBoxW called here rather than
// through the zenity package, which turns every return value other than a
// button's id into its error — nil when MessageBoxW fails with -1 — so that
// a box that was never shown read as "OK" (finding 11). The buttons are
// relabelled by a CBT hook on the calling thread, as the zenity package
// does it; the box is closed (WM_CLOSE, which answers Cancel) when ctx
// ends, and the answer is then ctx's error.

var (
	user32                  = windows.NewLazySystemDLL("user32.dll")
	procSetWindowsHookExW   = user32.NewProc("SetWindowsHookExW")
	procUnhookWindowsHookEx = user32.NewProc("UnhookWindowsHookEx")
	procCallNextHookEx      = user32.NewProc("CallNextHookEx")
	procSetDlgItemTextW     = user32.NewProc("SetDlgItemTextW")
	procPostMessageW        = user32.NewProc("PostMessageW")
)

const (
	whCBT        = 5      // SetWindowsHookEx: computer-based training hook
	hcbtActivate = 5      // a window is about to be activated
	wmClose      = 0x0010 // WM_CLOSE
)

// box is a message box shown on one OS thread: its labels, and its window
// once the hook saw it activated, so that ctx ending can close it.
type box struct {
	labels map[int32]string // button id → label

	mu     sync.Mutex
	hwnd   uintptr
	closed bool // ctx ended: close the box as soon as it exists
}

var (
	boxMu  sync.Mutex
	boxes  = map[uint32]*box{} // OS thread id → the box it shows
	cbtCB  uintptr
	cbtReg sync.Once
)

// cbtProc is the hook: at the box's first activation it sets the labels.
func cbtProc(code, wparam, lparam uintptr) uintptr {
	if int32(code) == hcbtActivate {
		boxMu.Lock()
		b := boxes[windows.GetCurrentThreadId()]
		boxMu.Unlock()
		if b != nil {
			b.activated(wparam)
		}
	}
	r, _, _ := procCallNextHookEx.Call(0, code, wparam, lparam)
	return r
}

func (b *box) activated(hwnd uintptr) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.hwnd != 0 {
		return
	}
	b.hwnd = hwnd
	for id, label := range b.labels {
		if s, err := windows.UTF16PtrFromString(label); err == nil {
			procSetDlgItemTextW.Call(hwnd, uintptr(id), uintptr(unsafe.Pointer(s)))
		}
	}
	if b.closed {
		procPostMessageW.Call(hwnd, wmClose, 0, 0)
	}
}

func (b *box) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	if b.hwnd != 0 {
		procPostMessageW.Call(b.hwnd, wmClose, 0, 0)
	}
}

// messageBox shows a MessageBoxW with flags and the button labels, and
// returns what MessageBoxW returned; msgBoxButton reads it.
func messageBox(ctx context.Context, title, text string, flags uint32, labels map[int32]string) (int32, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	t, err := windows.UTF16PtrFromString(title)
	if err != nil {
		return 0, err
	}
	x, err := windows.UTF16PtrFromString(text)
	if err != nil {
		return 0, err
	}
	// The hook, the box and its modal loop live on this OS thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cbtReg.Do(func() { cbtCB = syscall.NewCallback(cbtProc) })
	tid := windows.GetCurrentThreadId()
	b := &box{labels: labels}
	boxMu.Lock()
	boxes[tid] = b
	boxMu.Unlock()
	defer func() {
		boxMu.Lock()
		delete(boxes, tid)
		boxMu.Unlock()
	}()
	hook, _, herr := procSetWindowsHookExW.Call(whCBT, cbtCB, 0, uintptr(tid))
	if hook == 0 {
		return 0, fmt.Errorf("SetWindowsHookExW: %w", herr)
	}
	defer procUnhookWindowsHookEx.Call(hook)
	stop := context.AfterFunc(ctx, b.close)
	defer stop()
	return windows.MessageBox(0, x, t, flags)
}
