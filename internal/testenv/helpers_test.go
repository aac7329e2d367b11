package testenv

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"testing"

	"github.com/miekg/pkcs11"
)

// sha256DigestInfo is the DER prefix CKM_RSA_PKCS needs before a SHA-256 hash.
var sha256DigestInfo = []byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}

// findKey returns the private key with CKA_ID id (hex) and its mechanism and
// input for signing a SHA-256 hash.
func findKey(t *testing.T, ctx *pkcs11.Ctx, sh pkcs11.SessionHandle, id string, hash []byte) (pkcs11.ObjectHandle, []*pkcs11.Mechanism, []byte) {
	t.Helper()
	key, mech, in, err := findKeyErr(ctx, sh, id, hash)
	if err != nil {
		t.Fatal(err)
	}
	return key, mech, in
}

// findKeyErr is findKey, with an error instead of failing the test (for
// calls made off the test's goroutine).
func findKeyErr(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle, id string, hash []byte) (pkcs11.ObjectHandle, []*pkcs11.Mechanism, []byte, error) {
	raw, err := hex.DecodeString(id)
	if err != nil {
		return 0, nil, nil, err
	}
	if err := ctx.FindObjectsInit(sh, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_ID, raw),
	}); err != nil {
		return 0, nil, nil, fmt.Errorf("C_FindObjectsInit: %w", err)
	}
	objs, _, err := ctx.FindObjects(sh, 2)
	ctx.FindObjectsFinal(sh)
	if err != nil || len(objs) != 1 {
		return 0, nil, nil, fmt.Errorf("private key %s: %d found, %v", id, len(objs), err)
	}
	attrs, err := ctx.GetAttributeValue(sh, objs[0], []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, nil)})
	if err != nil {
		return 0, nil, nil, fmt.Errorf("CKA_KEY_TYPE: %w", err)
	}
	if kt := bytesToUint(attrs[0].Value); kt == pkcs11.CKK_EC {
		return objs[0], []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_ECDSA, nil)}, hash, nil
	}
	return objs[0], []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil)}, append(append([]byte{}, sha256DigestInfo...), hash...), nil
}

func bytesToUint(b []byte) uint {
	var v uint
	for i := len(b) - 1; i >= 0; i-- { // PKCS#11 CK_ULONG: native (little) endian here
		v = v<<8 | uint(b[i])
	}
	return v
}

// signWith logs in to the token in slot and signs hash with key id.
func signWith(t *testing.T, ctx *pkcs11.Ctx, slot uint, id string, hash []byte) []byte {
	t.Helper()
	sig, err := signErr(ctx, slot, id, hash)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// signErr is signWith, with an error instead of failing the test.
func signErr(ctx *pkcs11.Ctx, slot uint, id string, hash []byte) ([]byte, error) {
	sh, err := ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		return nil, fmt.Errorf("C_OpenSession: %w", err)
	}
	defer ctx.CloseSession(sh)
	if err := ctx.Login(sh, pkcs11.CKU_USER, PIN); err != nil {
		return nil, fmt.Errorf("C_Login: %w", err)
	}
	defer ctx.Logout(sh)
	key, mech, in, err := findKeyErr(ctx, sh, id, hash)
	if err != nil {
		return nil, err
	}
	if err := ctx.SignInit(sh, mech, key); err != nil {
		return nil, fmt.Errorf("C_SignInit: %w", err)
	}
	sig, err := ctx.Sign(sh, in)
	if err != nil {
		return nil, fmt.Errorf("C_Sign: %w", err)
	}
	return sig, nil
}

// verifyHash checks sig (raw PKCS#1 v1.5, or raw r||s for ECDSA) over a
// SHA-256 hash with the public key of the certificate in certFile.
func verifyHash(t *testing.T, certFile string, hash, sig []byte) {
	t.Helper()
	if err := verifyErr(certFile, hash, sig); err != nil {
		t.Error(err)
	}
}

// verifyErr is verifyHash's check, as an error.
func verifyErr(certFile string, hash, sig []byte) error {
	p, err := os.ReadFile(certFile)
	if err != nil {
		return err
	}
	blk, _ := pem.Decode(p)
	if blk == nil {
		return fmt.Errorf("%s: no PEM", certFile)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return err
	}
	switch pub := c.PublicKey.(type) {
	case *rsa.PublicKey:
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, hash, sig); err != nil {
			return fmt.Errorf("%s: RSA signature does not verify: %w", certFile, err)
		}
	case *ecdsa.PublicKey:
		n := len(sig) / 2
		r, s := new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])
		if !ecdsa.Verify(pub, hash, r, s) {
			return fmt.Errorf("%s: ECDSA signature does not verify", certFile)
		}
	default:
		return fmt.Errorf("%s: unexpected key %T", certFile, pub)
	}
	return nil
}
