package pkcs11

import (
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"github.com/miekg/pkcs11"

	"kyso.vn/kyso/token"
)

// hashAlg is what signing needs to know of a protocol hash function.
type hashAlg struct {
	size int
	// digestInfo is the DER prefix of DigestInfo{AlgorithmIdentifier{oid,
	// NULL}, OCTET STRING(size)} (RFC 8017 §9.2 note 1); the hash follows.
	digestInfo []byte
	mech, mgf  uint // PSS hashAlg and MGF1 for CK_RSA_PKCS_PSS_PARAMS
}

// PKCS#11 3.0 MGF1 values for SHA-3 (miekg/pkcs11 v1.1.2 predates them).
const (
	ckgMGF1SHA3_256 = 0x7
	ckgMGF1SHA3_384 = 0x8
	ckgMGF1SHA3_512 = 0x9
)

func digestInfo(oidLast byte, size int) []byte {
	// SEQUENCE { SEQUENCE { OID 2.16.840.1.101.3.4.2.x, NULL }, OCTET STRING }
	return []byte{0x30, byte(0x11 + size), 0x30, 0x0d, 0x06, 0x09,
		0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, oidLast,
		0x05, 0x00, 0x04, byte(size)}
}

var hashAlgs = map[token.HashFunc]hashAlg{
	token.SHA224:   {28, digestInfo(0x04, 28), pkcs11.CKM_SHA224, pkcs11.CKG_MGF1_SHA224},
	token.SHA256:   {32, digestInfo(0x01, 32), pkcs11.CKM_SHA256, pkcs11.CKG_MGF1_SHA256},
	token.SHA384:   {48, digestInfo(0x02, 48), pkcs11.CKM_SHA384, pkcs11.CKG_MGF1_SHA384},
	token.SHA512:   {64, digestInfo(0x03, 64), pkcs11.CKM_SHA512, pkcs11.CKG_MGF1_SHA512},
	token.SHA3_256: {32, digestInfo(0x08, 32), pkcs11.CKM_SHA3_256, ckgMGF1SHA3_256},
	token.SHA3_384: {48, digestInfo(0x09, 48), pkcs11.CKM_SHA3_384, ckgMGF1SHA3_384},
	token.SHA3_512: {64, digestInfo(0x0a, 64), pkcs11.CKM_SHA3_512, ckgMGF1SHA3_512},
}

func isSHA3(h token.HashFunc) bool {
	return h == token.SHA3_256 || h == token.SHA3_384 || h == token.SHA3_512
}

// ecdsaDER turns PKCS#11's raw r||s into the DER SEQUENCE {r, s} of X.509
// and CMS.
func ecdsaDER(raw []byte) ([]byte, error) {
	if len(raw) == 0 || len(raw)%2 != 0 {
		return nil, fmt.Errorf("ECDSA signature of odd length %d", len(raw))
	}
	n := len(raw) / 2
	r := new(big.Int).SetBytes(raw[:n])
	s := new(big.Int).SetBytes(raw[n:])
	if r.Sign() == 0 || s.Sign() == 0 {
		return nil, errors.New("ECDSA signature with a zero component")
	}
	return asn1.Marshal(struct{ R, S *big.Int }{r, s})
}
