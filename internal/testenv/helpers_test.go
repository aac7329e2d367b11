package testenv

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
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
	raw, err := hex.DecodeString(id)
	if err != nil {
		t.Fatal(err)
	}
	if err := ctx.FindObjectsInit(sh, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_ID, raw),
	}); err != nil {
		t.Fatalf("C_FindObjectsInit: %v", err)
	}
	objs, _, err := ctx.FindObjects(sh, 2)
	ctx.FindObjectsFinal(sh)
	if err != nil || len(objs) != 1 {
		t.Fatalf("private key %s: %d found, %v", id, len(objs), err)
	}
	attrs, err := ctx.GetAttributeValue(sh, objs[0], []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, nil)})
	if err != nil {
		t.Fatalf("CKA_KEY_TYPE: %v", err)
	}
	if kt := bytesToUint(attrs[0].Value); kt == pkcs11.CKK_EC {
		return objs[0], []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_ECDSA, nil)}, hash
	}
	return objs[0], []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil)}, append(append([]byte{}, sha256DigestInfo...), hash...)
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
	sh, err := ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		t.Fatalf("C_OpenSession: %v", err)
	}
	defer ctx.CloseSession(sh)
	if err := ctx.Login(sh, pkcs11.CKU_USER, PIN); err != nil {
		t.Fatalf("C_Login: %v", err)
	}
	defer ctx.Logout(sh)
	key, mech, in := findKey(t, ctx, sh, id, hash)
	if err := ctx.SignInit(sh, mech, key); err != nil {
		t.Fatalf("C_SignInit: %v", err)
	}
	sig, err := ctx.Sign(sh, in)
	if err != nil {
		t.Fatalf("C_Sign: %v", err)
	}
	return sig
}

// verifyHash checks sig (raw PKCS#1 v1.5, or raw r||s for ECDSA) over a
// SHA-256 hash with the public key of the certificate in certFile.
func verifyHash(t *testing.T, certFile string, hash, sig []byte) {
	t.Helper()
	p, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(p)
	if blk == nil {
		t.Fatalf("%s: no PEM", certFile)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	switch pub := c.PublicKey.(type) {
	case *rsa.PublicKey:
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, hash, sig); err != nil {
			t.Errorf("%s: RSA signature does not verify: %v", certFile, err)
		}
	case *ecdsa.PublicKey:
		n := len(sig) / 2
		r, s := new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])
		if !ecdsa.Verify(pub, hash, r, s) {
			t.Errorf("%s: ECDSA signature does not verify", certFile)
		}
	default:
		t.Fatalf("%s: unexpected key %T", certFile, pub)
	}
}
