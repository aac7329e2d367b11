package pdf_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"kyso.vn/kyso/document/pdf"
	"kyso.vn/kyso/internal/doctest"
)

// bigPDF is a real document of about mib MiB: copies of libtasn1.pdf (36
// pages each, fonts and all) joined by qpdf into one file with object
// streams and a cross-reference stream, the costlier kind to read (page
// dictionaries sit in compressed object streams). Made once, kept in the
// corpus directory.
func bigPDF(b *testing.B, mib int) []byte {
	b.Helper()
	getCorpus(b)
	out := filepath.Join(corpusDir, fmt.Sprintf("big-%d.pdf", mib))
	if data, err := os.ReadFile(out); err == nil {
		return data
	}
	st, err := os.Stat(libtasn1)
	if err != nil {
		b.Skip("libtasn1-doc not installed")
	}
	copies := max(1, int(int64(mib)<<20/st.Size()))
	dir := b.TempDir()
	args := []string{"--empty", "--object-streams=generate", "--pages"}
	for i := 0; i < copies; i++ {
		// Distinct file names, or qpdf shares the copies' objects.
		f := filepath.Join(dir, fmt.Sprintf("c%d.pdf", i))
		if err := os.Link(libtasn1, f); err != nil {
			data, _ := os.ReadFile(libtasn1)
			os.WriteFile(f, data, 0o600)
		}
		args = append(args, f)
	}
	args = append(args, "--", out)
	if err := qpdf(args...); err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkSign is what the engine adds to a signPdf request after the
// dialog: Prepare (parse, build the update, hash) and Finish (CMS, copy
// out). The token's signature (here ECDSA in Go, microseconds) is not the
// point. B/op bounds the memory Kyso adds to the document it was given:
// the peak cannot exceed what was allocated. Compare with
// BenchmarkSHA256, the floor's hashing of the same bytes.
func BenchmarkSign(b *testing.B) {
	for _, mib := range []int{1, 10, 30} {
		for _, visible := range []bool{false, true} {
			name := fmt.Sprintf("%dMiB/invisible", mib)
			if visible {
				name = fmt.Sprintf("%dMiB/stamp", mib)
			}
			b.Run(name, func(b *testing.B) {
				data := bigPDF(b, mib)
				p := doctest.Get(b)
				id := p.Signer(b, doctest.P256)
				key := id.Key.(*ecdsa.PrivateKey)
				signer := p.DocSigner(id)
				opts := pdf.Options{}
				if visible {
					opts.Stamp = &pdf.Stamp{Page: -1}
				}
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					prep, err := pdf.Prepare(data, signer, opts)
					if err != nil {
						b.Fatal(err)
					}
					sig, _ := ecdsa.SignASN1(rand.Reader, key, prep.Digest())
					if _, err := prep.Finish(context.Background(), sig); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkSHA256(b *testing.B) {
	for _, mib := range []int{1, 10, 30} {
		b.Run(fmt.Sprintf("%dMiB", mib), func(b *testing.B) {
			data := bigPDF(b, mib)
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				sha256.Sum256(data)
			}
		})
	}
}
