package engine

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"

	"kyso.vn/kyso/token"
)

// DetailFaultySignature is the TOKEN_ERROR detail of a signature that does
// not verify with the certificate's public key: the token is faulty (or
// under a fault attack, which on RSA-CRT would leak the key), and the
// signature is not sent (docs/protocol.md).
const DetailFaultySignature = "SIGNATURE_INVALID"

var cryptoHashes = map[token.HashFunc]crypto.Hash{
	token.SHA224:   crypto.SHA224,
	token.SHA256:   crypto.SHA256,
	token.SHA384:   crypto.SHA384,
	token.SHA512:   crypto.SHA512,
	token.SHA3_256: crypto.SHA3_256,
	token.SHA3_384: crypto.SHA3_384,
	token.SHA3_512: crypto.SHA3_512,
}

// verifySignature checks sig, made by the token over digest (computed
// with h) with scheme, against cert's public key, as the page's verifier
// will: RSA PKCS#1 v1.5, RSA-PSS with the salt as long as the hash, ECDSA
// as DER SEQUENCE {r, s}. It runs on every signature before it leaves the
// engine.
func verifySignature(cert *x509.Certificate, h token.HashFunc, scheme token.Scheme, digest, sig []byte) error {
	ch, ok := cryptoHashes[h]
	if !ok {
		return fmt.Errorf("no verifier for hash function %q", h)
	}
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		switch scheme {
		case token.PKCS1v15:
			return rsa.VerifyPKCS1v15(pub, ch, digest, sig)
		case token.PSS:
			return rsa.VerifyPSS(pub, ch, digest, sig, &rsa.PSSOptions{SaltLength: ch.Size(), Hash: ch})
		}
	case *ecdsa.PublicKey:
		if scheme == token.ECDSA {
			if !ecdsa.VerifyASN1(pub, digest, sig) {
				return errors.New("crypto/ecdsa: verification error")
			}
			return nil
		}
	}
	return fmt.Errorf("no verifier for scheme %q with a %T", scheme, cert.PublicKey)
}
