// Package token is the contract between the engine and the providers that
// find signing certificates and sign hashes with their keys: the Provider
// and Key interfaces, the certificate and PIN-state values, and the error
// codes a provider fails with. It is pure Go, so the engine, the agent and
// the installer build without cgo. The PKCS#11 provider is token/pkcs11; a
// remote-signing provider (CSC API style signHash) will sit beside it.
// Nothing above a provider may assume PKCS#11.
package token

import (
	"context"
	"crypto/x509"
	"time"

	"kyso.vn/kyso/protocol"
)

// HashFunc names a hash function as protocol v1 spells it.
type HashFunc string

const (
	SHA224   HashFunc = "SHA-224"
	SHA256   HashFunc = "SHA-256"
	SHA384   HashFunc = "SHA-384"
	SHA512   HashFunc = "SHA-512"
	SHA3_256 HashFunc = "SHA3-256"
	SHA3_384 HashFunc = "SHA3-384"
	SHA3_512 HashFunc = "SHA3-512"
)

// Scheme names a signature scheme as protocol v1 spells it.
type Scheme string

const (
	PKCS1v15 Scheme = "RSASSA-PKCS1-v1_5"
	PSS      Scheme = "RSASSA-PSS"
	ECDSA    Scheme = "ECDSA"
)

// Info describes the token a certificate lives on.
type Info struct {
	Label        string `json:"label"`
	Manufacturer string `json:"manufacturer"`
	Model        string `json:"model"`
	SerialNumber string `json:"serialNumber"`
}

// Certificate is a signing certificate whose private key is on a token.
type Certificate struct {
	ID    string // lowercase hex SHA-256 of the DER
	Cert  *x509.Certificate
	Token Info
	Chain [][]byte // DER of CA certificates found on the same token
}

// PINState is what the token reports about its user PIN.
type PINState struct {
	CountLow bool // a wrong PIN was entered since the last good one
	FinalTry bool // one more wrong PIN locks it
	Locked   bool
}

// Provider lists certificates and opens keys. It looks at the tokens anew on
// every call, so a token plugged in or pulled out is seen without a restart.
// It is safe for use from several goroutines.
type Provider interface {
	// Certificates lists the signing certificates of every present token.
	// It fails with NO_TOKEN when no module is loaded or no token is present.
	Certificates(ctx context.Context) ([]Certificate, error)
	// Open opens a session on the token holding certificate id; it fails
	// with CERTIFICATE_NOT_FOUND when no present token holds it.
	Open(ctx context.Context, id string) (Key, error)
}

// Key is one operation's session on one key. It is not for concurrent use.
type Key interface {
	Certificate() Certificate
	PINState() (PINState, error)
	// LoggedIn reports whether the token is still logged in from an earlier
	// Login kept alive by Close(keep > 0).
	LoggedIn() bool
	// ProtectedPath reports whether the PIN is entered on the token's
	// reader (a PIN pad: PKCS#11's CKF_PROTECTED_AUTHENTICATION_PATH)
	// rather than typed into Kyso: Login then takes no PIN.
	ProtectedPath() bool
	// Login logs the user in (logging out first if already logged in, so a
	// PIN is always checked). A wrong PIN fails with PIN_INCORRECT and the
	// new PINState, a locked one with PIN_LOCKED; the caller wipes pin
	// after the call. With ProtectedPath, pin is nil and Login returns
	// when the person has typed the PIN on the reader, or cancelled there
	// (USER_CANCELLED). A call may take long, or hang with the token: the
	// engine runs it where it can stop waiting for it.
	Login(pin []byte) error
	// Sign signs a hash already computed with h. For keys that need
	// context-specific login (CKA_ALWAYS_AUTHENTICATE) the PIN given to Login
	// is used again, then wiped at Close.
	Sign(ctx context.Context, hash []byte, h HashFunc, s Scheme) ([]byte, error)
	// Close ends the operation. With keep > 0 the token stays logged in for
	// keep (the pinCacheSeconds window); with 0 it logs out now.
	Close(keep time.Duration) error
}

// PINIncorrect is the one code of the token layer that is not a protocol
// code: it makes the engine ask for the PIN again, saying the last one was
// wrong. A provider fails otherwise with the protocol's codes, which travel
// to the page unchanged: NO_TOKEN, NO_CERTIFICATE, CERTIFICATE_NOT_FOUND,
// UNSUPPORTED_ALGORITHM, PIN_LOCKED, TOKEN_REMOVED, TOKEN_ERROR,
// USER_CANCELLED (the person cancelled on the token's own PIN pad), and
// BAD_REQUEST when Sign is given a hash of the wrong length for its hash
// function (the engine checks this first; a provider checks again rather
// than sign a truncated or padded value).
const PINIncorrect protocol.Code = "PIN_INCORRECT"

// Error is a token failure with its code. Detail is the CKR_ name
// for TOKEN_ERROR. PIN carries the PIN state after a PIN_INCORRECT.
type Error struct {
	Code   protocol.Code
	Detail string
	PIN    PINState
	Err    error
}

func (e *Error) Error() string {
	s := string(e.Code)
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }
