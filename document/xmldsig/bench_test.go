package xmldsig

import (
	"context"
	"crypto/sha256"
	"testing"

	"kyso.vn/kyso/document/xmldsig/xmldsigtest"
)

// Prepare+Finish of a large invoice, and Finish alone (what runs after the
// dialog), against SHA-256 of its canonical bytes, the floor any signer
// must pay (docs/xml-signing.md has figures). The token's signature is
// made with the timer stopped.
func BenchmarkXMLSign(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"1MiB", 1 << 20}, {"10MiB", 10 << 20}} {
		doc := xmldsigtest.Invoice(size.n)
		opts := Options{Reference: xmldsigtest.InvoiceReference, Parent: xmldsigtest.InvoiceParent, SigningTime: true}
		key := getPKI(b).signer["rsa"]
		signer := signerFor(b, "rsa")
		b.Run("PrepareFinish/"+size.name, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for b.Loop() {
				p, err := Prepare(doc, signer, opts)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				sig := signWith(b, key.key, p)
				b.StartTimer()
				if _, err := p.Finish(context.Background(), sig); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("Finish/"+size.name, func(b *testing.B) {
			p, err := Prepare(doc, signer, opts)
			if err != nil {
				b.Fatal(err)
			}
			sig := signWith(b, key.key, p)
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Finish(context.Background(), sig); err != nil {
					b.Fatal(err)
				}
			}
		})
		canon, err := canonicalBytes(doc, xmldsigtest.InvoiceReference[1:])
		if err != nil {
			b.Fatal(err)
		}
		b.Run("SHA256Canonical/"+size.name, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for b.Loop() {
				sha256.Sum256(canon)
			}
		})
	}
}

// The generated invoices sign and verify like the fixtures.
func TestGeneratedInvoice(t *testing.T) {
	doc := xmldsigtest.Invoice(64 << 10)
	if len(doc) < 64<<10 {
		t.Fatalf("%d bytes", len(doc))
	}
	s := signDoc(t, "rsa", doc, Options{Reference: xmldsigtest.InvoiceReference, Parent: xmldsigtest.InvoiceParent, SigningTime: true})
	checkOutside(t, s)
	mustVerify(t, s.out, s.sigID, "Id DLHDon")
}
