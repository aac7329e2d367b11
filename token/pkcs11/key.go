package pkcs11

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"time"
	"unsafe"

	"github.com/miekg/pkcs11"

	"kyso.vn/kyso/protocol"
	"kyso.vn/kyso/token"
)

// p11Key is one operation's session on one key.
//
// Login state in PKCS#11 belongs to the token (all of the application's
// sessions on it), so from the first Login, Sign or LoggedIn()==true until
// Close the key holds its token's operation lock: another operation on the
// same token cannot log out or log in under it. Do not hold two Keys of the
// same token in one goroutine.
type p11Key struct {
	p    *Provider
	tok  slotToken
	cert token.Certificate
	id   []byte // CKA_ID linking the certificate to its private key
	sess pkcs11.SessionHandle

	priv       pkcs11.ObjectHandle // 0 until found (maybe only after login)
	privKept   bool                // priv comes from the keeper, not a lookup in this operation
	alwaysAuth bool
	pin        []byte // copy kept only for CKA_ALWAYS_AUTHENTICATE keys
	locked     bool   // we hold the token's operation lock
	closed     bool
}

func (p *Provider) open(t slotToken, f found) (token.Key, error) {
	defer t.mk.enter("C_OpenSession").leave()
	// R/O is enough to log in and sign, and never conflicts with an SO
	// session another program may hold.
	sess, err := t.mod.ctx.OpenSession(t.slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		return nil, mapErr("C_OpenSession", err, p.goneFunc(t))
	}
	return &p11Key{p: p, tok: t, cert: f.cert, id: f.ckaID, sess: sess}, nil
}

// findPrivate looks for the private key with the certificate's CKA_ID and
// reads CKA_ALWAYS_AUTHENTICATE. It runs under the token's operation lock,
// each time the login state may have changed (Login, or taking the lock):
// tokens may show private keys only after login, and SoftHSM invalidates
// private object handles at logout, so a handle found earlier, while
// another operation was logged in, may be stale. Finding none is not an
// error here; Sign reports it.
func (k *p11Key) findPrivate() error {
	k.priv, k.privKept, k.alwaysAuth = 0, false, false
	c := k.tok.mod.ctx
	objs, err := findObjects(c, k.sess, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_ID, k.id),
	})
	if err != nil {
		return mapErr("finding the private key", err, k.p.goneFunc(k.tok))
	}
	if len(objs) == 0 {
		return nil
	}
	k.priv = objs[0]
	a, err := c.GetAttributeValue(k.sess, k.priv, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_ALWAYS_AUTHENTICATE, nil),
	})
	// Old modules do not know the attribute (CKR_ATTRIBUTE_TYPE_INVALID):
	// then the key does not need context-specific login.
	k.alwaysAuth = err == nil && len(a[0].Value) > 0 && a[0].Value[0] != 0
	return nil
}

func (k *p11Key) Certificate() token.Certificate { return k.cert }

// ProtectedPath: the token has a PIN pad (CKF_PROTECTED_AUTHENTICATION_PATH
// in its token info, read when the key was opened).
func (k *p11Key) ProtectedPath() bool {
	return k.tok.info.Flags&pkcs11.CKF_PROTECTED_AUTHENTICATION_PATH != 0
}

func pinState(flags uint) token.PINState {
	return token.PINState{
		CountLow: flags&pkcs11.CKF_USER_PIN_COUNT_LOW != 0,
		FinalTry: flags&pkcs11.CKF_USER_PIN_FINAL_TRY != 0,
		Locked:   flags&pkcs11.CKF_USER_PIN_LOCKED != 0,
	}
}

// PINState reads the token's CKF_USER_PIN_* flags now.
func (k *p11Key) PINState() (token.PINState, error) {
	defer k.tok.mk.enter("C_GetTokenInfo").leave()
	ti, err := k.tok.mod.ctx.GetTokenInfo(k.tok.slot)
	if err != nil {
		return token.PINState{}, mapErr("C_GetTokenInfo", err, k.p.goneFunc(k.tok))
	}
	return pinState(ti.Flags), nil
}

func (k *p11Key) sessionLoggedIn() bool {
	si, err := k.tok.mod.ctx.GetSessionInfo(k.sess)
	return err == nil && (si.State == pkcs11.CKS_RO_USER_FUNCTIONS || si.State == pkcs11.CKS_RW_USER_FUNCTIONS)
}

// LoggedIn reports whether the token is still logged in from an earlier
// operation closed with keep > 0. Keys with CKA_ALWAYS_AUTHENTICATE need
// the PIN for every signature, so for them it reports false (the PIN is not
// kept between operations). When it reports true the key holds the token's
// operation lock until Close, so the kept login cannot end under it.
func (k *p11Key) LoggedIn() bool {
	if k.closed {
		return false
	}
	if !k.locked {
		k.p.lock(k.tok.key) <- struct{}{}
		k.locked = true
	}
	defer k.tok.mk.enter("C_GetSessionInfo").leave()
	ok := k.sessionLoggedIn()
	if ok {
		// The handle found under this same login by an earlier operation
		// is still valid (keys needing CKA_ALWAYS_AUTHENTICATE are never
		// kept, so a kept handle has alwaysAuth false). Sign looks again
		// should the token disagree.
		if h, kept := k.p.keeper.handle(k.tok.key, k.id); kept {
			k.priv, k.privKept, k.alwaysAuth = h, true, false
		} else if err := k.findPrivate(); err != nil || k.priv == 0 || k.alwaysAuth && k.pin == nil {
			ok = false
		}
	}
	if !ok {
		k.unlock()
	}
	return ok
}

func (k *p11Key) unlock() {
	if k.locked {
		<-k.p.lock(k.tok.key)
		k.locked = false
	}
}

// acquire takes the token's operation lock unless held. Taking it means
// the login state may have changed since we last looked: the private key
// is looked up again.
func (k *p11Key) acquire(ctx context.Context) error {
	if k.locked {
		return nil
	}
	select {
	case k.p.lock(k.tok.key) <- struct{}{}:
		k.locked = true
		defer k.tok.mk.enter("C_FindObjects").leave()
		return k.findPrivate()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pinString shows pin to miekg/pkcs11 as a string without a copy on the Go
// heap, so that wiping pin after the call leaves no PIN in Go memory.
// (miekg/pkcs11 copies it to a C buffer it frees unwiped; see docs/tokens.md.)
func pinString(pin []byte) string {
	if len(pin) == 0 {
		return ""
	}
	return unsafe.String(&pin[0], len(pin))
}

// Login logs the user in, logging out first when the token is already
// logged in so that the PIN is always checked. CKR_PIN_INCORRECT gives
// PIN_INCORRECT with the token's new PIN state, CKR_PIN_LOCKED PIN_LOCKED.
// On a PIN pad (ProtectedPath) pin is nil: C_Login(NULL, 0) returns once
// the person has typed the PIN on the reader (PKCS#11 v2.40 §5.6), and a
// typed PIN is refused rather than sent past the pad.
func (k *p11Key) Login(pin []byte) error {
	if k.ProtectedPath() != (pin == nil) {
		return &token.Error{Code: protocol.TokenError, Detail: "CKR_ARGUMENTS_BAD",
			Err: errors.New("a token with a PIN pad logs in with no PIN, any other with one")}
	}
	if k.closed {
		return errors.New("token: Login on a closed key")
	}
	if err := k.acquire(context.Background()); err != nil {
		return err
	}
	defer k.tok.mk.enter("C_Login").leave()
	c := k.tok.mod.ctx
	// The handles found under the login about to end are no longer valid.
	k.p.keeper.forgetHandles(k.tok.key)
	if k.sessionLoggedIn() {
		if err := c.Logout(k.sess); err != nil && !isCKR(err, pkcs11.CKR_USER_NOT_LOGGED_IN) {
			return mapErr("C_Logout", err, k.p.goneFunc(k.tok))
		}
	}
	err := c.Login(k.sess, pkcs11.CKU_USER, pinString(pin))
	if err != nil && !isCKR(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
		e := mapErr("C_Login", err, k.p.goneFunc(k.tok)).(*token.Error)
		if e.Code == token.PINIncorrect || e.Code == protocol.PINLocked {
			e.PIN, _ = k.PINState()
		}
		return e
	}
	if err := k.findPrivate(); err != nil {
		return err
	}
	if k.alwaysAuth && pin != nil {
		wipe(k.pin)
		k.pin = append([]byte(nil), pin...)
	}
	return nil
}

func isCKR(err error, v uint) bool {
	var e pkcs11.Error
	return errors.As(err, &e) && uint(e) == v
}

func wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
}

// Sign signs hash, made with h, with scheme s ("" picks the key's default:
// PKCS#1 v1.5 for RSA, ECDSA for EC).
func (k *p11Key) Sign(ctx context.Context, hash []byte, h token.HashFunc, s token.Scheme) ([]byte, error) {
	if k.closed {
		return nil, errors.New("token: Sign on a closed key")
	}
	ha, ok := hashAlgs[h]
	if !ok {
		return nil, &token.Error{Code: protocol.UnsupportedAlgorithm, Err: fmt.Errorf("unknown hash function %q", h)}
	}
	if len(hash) != ha.size {
		return nil, &token.Error{Code: protocol.BadRequest, Err: fmt.Errorf("a %s hash has %d bytes, got %d", h, ha.size, len(hash))}
	}
	mech, data, err := k.mechanism(hash, h, ha, s)
	if err != nil {
		return nil, err
	}
	if err := k.acquire(ctx); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	defer k.tok.mk.enter("C_Sign").leave()
	if k.priv == 0 {
		if !k.sessionLoggedIn() {
			return nil, &token.Error{Code: protocol.TokenError, Detail: "CKR_USER_NOT_LOGGED_IN", Err: errors.New("the private key is visible only after login")}
		}
		return nil, &token.Error{Code: protocol.TokenError, Detail: "CKR_KEY_HANDLE_INVALID", Err: errors.New("no private key with the certificate's CKA_ID")}
	}
	c := k.tok.mod.ctx
	gone := k.p.goneFunc(k.tok)
	err = c.SignInit(k.sess, []*pkcs11.Mechanism{mech}, k.priv)
	if k.privKept && (isCKR(err, pkcs11.CKR_KEY_HANDLE_INVALID) || isCKR(err, pkcs11.CKR_OBJECT_HANDLE_INVALID)) {
		// The kept handle went stale behind our back: look it up again.
		k.p.keeper.forgetHandles(k.tok.key)
		if ferr := k.findPrivate(); ferr != nil {
			return nil, ferr
		}
		if k.priv == 0 {
			return nil, &token.Error{Code: protocol.TokenError, Detail: "CKR_KEY_HANDLE_INVALID", Err: errors.New("no private key with the certificate's CKA_ID")}
		}
		err = c.SignInit(k.sess, []*pkcs11.Mechanism{mech}, k.priv)
	}
	if err != nil {
		e := mapErr("C_SignInit", err, gone)
		// SoftHSM and others answer a PSS hashAlg they do not know (SHA-3)
		// with CKR_ARGUMENTS_BAD rather than CKR_MECHANISM_PARAM_INVALID.
		if s == token.PSS && isSHA3(h) && isCKR(err, pkcs11.CKR_ARGUMENTS_BAD) {
			e = &token.Error{Code: protocol.UnsupportedAlgorithm, Detail: ckrName(err), Err: fmt.Errorf("RSASSA-PSS with %s: this token does not support it: %w", h, err)}
		}
		return nil, e
	}
	if k.alwaysAuth {
		// On a PIN pad the person types the PIN again for each signature.
		if k.pin == nil && !k.ProtectedPath() {
			return nil, &token.Error{Code: protocol.TokenError, Detail: "CKR_USER_NOT_LOGGED_IN", Err: errors.New("the key needs the PIN for each signature and none was given")}
		}
		if err := c.Login(k.sess, pkcs11.CKU_CONTEXT_SPECIFIC, pinString(k.pin)); err != nil {
			e := mapErr("C_Login (context-specific)", err, gone).(*token.Error)
			if e.Code == token.PINIncorrect || e.Code == protocol.PINLocked {
				e.PIN, _ = k.PINState()
			}
			return nil, e
		}
	}
	sig, err := c.Sign(k.sess, data)
	wipe(data)
	if err != nil {
		return nil, mapErr("C_Sign", err, gone)
	}
	if mech.Mechanism == pkcs11.CKM_ECDSA {
		der, err := ecdsaDER(sig)
		if err != nil {
			return nil, &token.Error{Code: protocol.TokenError, Err: err}
		}
		return der, nil
	}
	return sig, nil
}

// mechanism picks the PKCS#11 mechanism and the data to sign for the
// certificate's key type and the scheme.
func (k *p11Key) mechanism(hash []byte, h token.HashFunc, ha hashAlg, s token.Scheme) (*pkcs11.Mechanism, []byte, error) {
	switch k.cert.Cert.PublicKey.(type) {
	case *rsa.PublicKey:
		switch s {
		case "", token.PKCS1v15:
			// CKM_RSA_PKCS pads DigestInfo||hash itself (EMSA-PKCS1-v1_5).
			data := append(append([]byte(nil), ha.digestInfo...), hash...)
			return pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil), data, nil
		case token.PSS:
			// Salt length = hash length, MGF1 with the same hash (the
			// protocol's, and what most verifiers expect).
			params := pkcs11.NewPSSParams(ha.mech, ha.mgf, uint(ha.size))
			return pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS_PSS, params), append([]byte(nil), hash...), nil
		}
	case *ecdsa.PublicKey:
		if s == "" || s == token.ECDSA {
			return pkcs11.NewMechanism(pkcs11.CKM_ECDSA, nil), append([]byte(nil), hash...), nil
		}
	}
	return nil, nil, &token.Error{Code: protocol.UnsupportedAlgorithm, Err: fmt.Errorf("scheme %q does not fit a %s key", s, keyKind(k.cert))}
}

// keyKind names a certificate's key for messages: "RSA 2048", "EC P-256".
func keyKind(c token.Certificate) string { return token.KeyDescription(c.Cert) }

// Close ends the operation. With keep > 0 and a logged-in session, the
// session is handed to the token's keeper, which keeps the login alive and
// logs out after keep; with keep == 0 the token is logged out now (when this
// operation logged in or used a kept login) and the session closed. Keys
// with CKA_ALWAYS_AUTHENTICATE are never kept. Errors
// are ignored: a removed token has nothing left to close.
func (k *p11Key) Close(keep time.Duration) error {
	if k.closed {
		return nil
	}
	k.closed = true
	wipe(k.pin)
	k.pin = nil
	defer k.tok.mk.enter("C_CloseSession").leave()
	c := k.tok.mod.ctx
	if k.locked && k.sessionLoggedIn() {
		// A key that needs the PIN for every signature gains nothing from a
		// kept login: it is logged out like keep == 0.
		if keep > 0 && !k.alwaysAuth {
			k.p.keeper.keep(k.tok, k.sess, keep, k.p.lock(k.tok.key), k.id, k.priv)
			k.unlock()
			return nil
		}
		c.Logout(k.sess)
		k.p.keeper.drop(k.tok.key)
	}
	c.CloseSession(k.sess)
	k.unlock()
	return nil
}
