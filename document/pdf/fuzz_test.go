package pdf_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"os"
	"testing"

	"kyso.vn/kyso/document"
	"kyso.vn/kyso/document/pdf"
	"kyso.vn/kyso/internal/doctest"
)

// FuzzPrepare feeds any bytes to Prepare (with a stamp or without) as a
// page would send them. It must never panic; a refusal is a
// *document.Error BAD_DOCUMENT; an accepted document signs, the output
// starts with the input unchanged, and the output reads again (one more
// signature can be prepared on it). Memory is bounded by the reader's
// limits (maxElements, maxDecoded, maxResolves; the engine caps input at
// 64 MiB). Seeds: the corpus's real PDFs (Debian's, groff's, …) when the
// machine has them, and the small broken ones of the unit tests.
func FuzzPrepare(f *testing.F) {
	f.Add(minimalPDF("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"), false)
	f.Add(minimalPDF("<< /Type /Pages /Kids [] /Count 0 >>"), true)
	f.Add(hybridPDF(), true)
	f.Add(hybridPDF(), false)
	for _, path := range []string{libtasn1, sharedMime} {
		if b, err := os.ReadFile(path); err == nil {
			f.Add(b, false)
		}
	}
	if c, err := corpusForFuzz(); err == nil {
		for _, name := range []string{"groff", "ghostscript", "ghostscript-1.4", "ghostscript-2.0", "libtasn1-classic", "groff-rotate90"} {
			if b, err := os.ReadFile(c[name]); err == nil {
				f.Add(b, name == "groff")
			}
		}
	}
	p := doctest.Get(f)
	id := p.Signer(f, doctest.P256)
	signer := p.DocSigner(id)
	key := id.Key.(*ecdsa.PrivateKey)
	f.Fuzz(func(t *testing.T, data []byte, visible bool) {
		opts := pdf.Options{}
		if visible {
			opts.Stamp = &pdf.Stamp{Page: -1}
		}
		prep, err := pdf.Prepare(data, signer, opts)
		if err != nil {
			var de *document.Error
			if !errors.As(err, &de) || de.Code != document.CodeBadDocument || de.Reason == "" {
				t.Fatalf("refused with %v, want BAD_DOCUMENT with a reason", err)
			}
			return
		}
		sig, err := ecdsa.SignASN1(rand.Reader, key, prep.Digest())
		if err != nil {
			t.Fatal(err)
		}
		out, err := prep.Finish(context.Background(), sig)
		if err != nil {
			t.Fatalf("Finish: %v", err)
		}
		if !bytes.Equal(out[:len(data)], data) {
			t.Fatal("the input bytes changed")
		}
		if _, err := pdf.Prepare(out, signer, pdf.Options{}); err != nil {
			t.Fatalf("our own output does not read: %v", err)
		}
	})
}

// corpusForFuzz makes the corpus without a testing.T (the fuzz seeds are
// added before any T exists).
func corpusForFuzz() (map[string]string, error) {
	corpusOnce.Do(func() { corpusErr = makeCorpus() })
	return corpus, corpusErr
}
