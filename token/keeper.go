package token

import (
	"sync"
	"time"

	"github.com/miekg/pkcs11"
)

// keeper keeps, per token, one logged-in session open after an operation
// closed with keep > 0: PKCS#11 keeps a token logged in while any of the
// application's sessions on it is open, so a later operation's new session
// sees the login. A timer (no polling) logs out and closes it after keep.
// The PIN is not kept.
type keeper struct {
	mu   sync.Mutex
	kept map[tokenKey]*keptSession
}

type keptSession struct {
	tok   slotToken
	sess  pkcs11.SessionHandle
	timer *time.Timer
}

func newKeeper() *keeper { return &keeper{kept: map[tokenKey]*keptSession{}} }

// keep takes over sess for d, replacing (and closing) the token's earlier
// kept session. lock is the token's operation lock, taken at expiry so the
// logout cannot interleave with an operation using the login.
func (kp *keeper) keep(t slotToken, sess pkcs11.SessionHandle, d time.Duration, lock chan struct{}) {
	kp.mu.Lock()
	defer kp.mu.Unlock()
	if old := kp.kept[t.key]; old != nil {
		old.timer.Stop()
		if old.sess != sess {
			// The new session holds the login now; closing the old one
			// does not log out.
			old.tok.mod.ctx.CloseSession(old.sess)
		}
	}
	ks := &keptSession{tok: t, sess: sess}
	ks.timer = time.AfterFunc(d, func() {
		lock <- struct{}{}
		defer func() { <-lock }()
		kp.mu.Lock()
		if kp.kept[t.key] != ks {
			kp.mu.Unlock()
			return
		}
		delete(kp.kept, t.key)
		kp.mu.Unlock()
		ks.tok.mod.ctx.Logout(ks.sess)
		ks.tok.mod.ctx.CloseSession(ks.sess)
	})
	kp.kept[t.key] = ks
}

// drop closes the token's kept session now (the caller logged out).
func (kp *keeper) drop(k tokenKey) {
	kp.mu.Lock()
	ks := kp.kept[k]
	delete(kp.kept, k)
	kp.mu.Unlock()
	if ks != nil {
		ks.timer.Stop()
		ks.tok.mod.ctx.CloseSession(ks.sess)
	}
}

// prune drops kept sessions of tokens no longer present (pulled out, or
// another token in the slot): nothing dangles after a removal.
func (kp *keeper) prune(present []slotToken) {
	here := map[tokenKey]bool{}
	for _, t := range present {
		here[t.key] = true
	}
	kp.mu.Lock()
	var gone []tokenKey
	for k := range kp.kept {
		if !here[k] {
			gone = append(gone, k)
		}
	}
	kp.mu.Unlock()
	for _, k := range gone {
		kp.drop(k)
	}
}
