package token

import (
	"crypto/sha256"
	"encoding/hex"
)

// CertID is the certificate id of protocol v1: lowercase hex SHA-256 of the DER.
func CertID(der []byte) string {
	s := sha256.Sum256(der)
	return hex.EncodeToString(s[:])
}

// hashSizes are the digest lengths of protocol v1's hash functions.
var hashSizes = map[HashFunc]int{
	SHA224: 28, SHA256: 32, SHA384: 48, SHA512: 64,
	SHA3_256: 32, SHA3_384: 48, SHA3_512: 64,
}

// HashSize is the length in bytes of a hash made with h, 0 if h is unknown.
func HashSize(h HashFunc) int { return hashSizes[h] }

// Module sources, in the order a PKCS#11 provider tries them.
const (
	SourcePolicy = "policy"  // the system policy's `modules`: administrators' files only
	SourceConfig = "config"  // the user's config `modules` (or `kyso tokens --module`)
	SourceP11Kit = "p11-kit" // registered with p11-kit (Linux)
	SourceVendor = "vendor"  // a known vendor module found in a system folder
)

// ModuleStatus says where a PKCS#11 module came from and whether it loaded.
// It lives here, not in token/pkcs11, because the diagnostics (installer's
// doctor) read it and must build without cgo.
type ModuleStatus struct {
	Path   string
	Source string
	Loaded bool
	Err    error
}
