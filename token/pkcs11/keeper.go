package pkcs11

import (
	"slices"
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
	// privs are the private key handles (by CKA_ID) found under the kept
	// login. They stay valid while that login lasts (SoftHSM, for one,
	// invalidates private object handles at logout), so they are dropped
	// with it, and forgotten when an operation logs in anew.
	privs map[string]pkcs11.ObjectHandle
}

func newKeeper() *keeper { return &keeper{kept: map[tokenKey]*keptSession{}} }

// keep takes over sess for d, replacing (and closing) the token's earlier
// kept session. lock is the token's operation lock, taken at expiry so the
// logout cannot interleave with an operation using the login.
//
// ckaID and priv (0: none) are the private key the operation found under
// this login; the handles found under the same login by earlier operations
// are carried over.
func (kp *keeper) keep(t slotToken, sess pkcs11.SessionHandle, d time.Duration, lock chan struct{}, ckaID []byte, priv pkcs11.ObjectHandle) {
	kp.mu.Lock()
	defer kp.mu.Unlock()
	ks := &keptSession{tok: t, sess: sess, privs: map[string]pkcs11.ObjectHandle{}}
	if old := kp.kept[t.key]; old != nil {
		old.timer.Stop()
		if old.sess != sess {
			// The new session holds the login now; closing the old one
			// does not log out.
			old.tok.mod.ctx.CloseSession(old.sess)
		}
		for id, h := range old.privs {
			ks.privs[id] = h
		}
	}
	if priv != 0 {
		ks.privs[string(ckaID)] = priv
	}
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
		defer ks.tok.mk.enter("C_Logout").leave()
		ks.tok.mod.ctx.Logout(ks.sess)
		ks.tok.mod.ctx.CloseSession(ks.sess)
	})
	kp.kept[t.key] = ks
}

// handle returns the private key handle with ckaID found under the token's
// kept login, if any.
func (kp *keeper) handle(k tokenKey, ckaID []byte) (pkcs11.ObjectHandle, bool) {
	kp.mu.Lock()
	defer kp.mu.Unlock()
	if ks := kp.kept[k]; ks != nil {
		h, ok := ks.privs[string(ckaID)]
		return h, ok
	}
	return 0, false
}

// alive reports whether the token's kept session is still open on slot:
// then the token has not left the slot since the session was opened.
func (kp *keeper) alive(k tokenKey, slot uint) bool {
	kp.mu.Lock()
	defer kp.mu.Unlock()
	ks := kp.kept[k]
	if ks == nil {
		return false
	}
	si, err := ks.tok.mod.ctx.GetSessionInfo(ks.sess)
	return err == nil && si.SlotID == slot
}

// forgetHandles forgets the token's remembered key handles: the caller is
// about to log out and in again.
func (kp *keeper) forgetHandles(k tokenKey) {
	kp.mu.Lock()
	defer kp.mu.Unlock()
	if ks := kp.kept[k]; ks != nil {
		clear(ks.privs)
	}
}

// drop closes the token's kept session now (the caller logged out).
func (kp *keeper) drop(k tokenKey) {
	kp.mu.Lock()
	ks := kp.kept[k]
	delete(kp.kept, k)
	kp.mu.Unlock()
	if ks != nil {
		ks.timer.Stop()
		defer ks.tok.mk.enter("C_CloseSession").leave()
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

// pruneModule drops the kept sessions of module's tokens whose slot is not
// among present (the slots with a token now): the part of prune that Open
// can do when it lists one module's slots only.
func (kp *keeper) pruneModule(module string, present []uint) {
	kp.mu.Lock()
	var gone []tokenKey
	for k := range kp.kept {
		if k.module == module && !slices.Contains(present, k.slot) {
			gone = append(gone, k)
		}
	}
	kp.mu.Unlock()
	for _, k := range gone {
		kp.drop(k)
	}
}
