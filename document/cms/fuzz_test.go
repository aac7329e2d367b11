package cms_test

import (
	"context"
	"crypto"
	"crypto/sha256"
	"testing"

	"kyso.vn/kyso/document/cms"
	"kyso.vn/kyso/internal/doctest"
)

// FuzzVerify: Verify reads any bytes (a portal's server may call it on
// what a client uploaded) without panicking, and accepts nothing that is
// not a valid signature over the digest: the seed is a real CMS, so the
// fuzzer starts from valid structure.
func FuzzVerify(f *testing.F) {
	p := doctest.Get(f)
	id := p.Signer(f, doctest.P256)
	d := sha256.Sum256(content)
	prep, err := cms.Prepare(d[:], crypto.SHA256, p.DocSigner(id), cms.Options{SigningTime: true})
	if err != nil {
		f.Fatal(err)
	}
	der, err := prep.Finish(context.Background(), doctest.SignPrepared(f, prep, id.Key))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(der)
	f.Add([]byte{0x30, 0x03, 0x06, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := cms.Verify(b, d[:])
		if err != nil {
			return
		}
		// Accepted: the signer's key verified the signed attributes, so
		// its certificate must be one the SignedData carries.
		if v.Signer == nil || len(v.Certificates) == 0 {
			t.Fatalf("accepted without a signer: %+v", v)
		}
	})
}
