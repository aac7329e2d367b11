package xmldsig

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"kyso.vn/kyso/document"
)

// FuzzPrepare feeds any bytes, reference and parent to Prepare. It never
// panics; a refusal is a BAD_DOCUMENT *document.Error; an accepted document
// signs (ECDSA P-256, in process), and the output is the input with only
// the Signature inserted (a self-closing parent opened), and the SignedInfo
// and Object found in the OUTPUT canonicalise, in the output's own
// context, to exactly the bytes Kyso hashed — the check that inherited
// namespaces and xml:* attributes were right. (xmlsec1 checks the real
// shapes in TestSignVerifies and TestCanonicalAgainstXmlsec1.)
func FuzzPrepare(f *testing.F) {
	for _, fx := range []struct {
		file, ref, parent string
	}{
		{"invoice.xml", invoiceID, "/HDon/DSCKS/NBan"},
		{"invoice-ns.xml", invoiceNSID, "/HDon/DSCKS/NBan"},
		{"invoice-ns.xml", mccqtID, "/HDon/DSCKS/CQT"},
		{"tokhai.xml", "#ID_1", "/HSoThueDTu/CKyDTu"},
		{"tokhai.xml", "", ""},
	} {
		b, err := os.ReadFile(filepath.Join("testdata", fx.file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, fx.ref, fx.parent, true)
	}
	for _, c := range c14nCases {
		f.Add([]byte(c.doc), "#x", c.parent, true)
		f.Add([]byte(c.doc), "", c.parent, false)
	}
	for _, d := range []string{
		`<!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:1/">]><r>&x;</r>`,
		`<a xmlns:p="urn:x" xmlns:q="urn:x" p:k="1" q:k="2"/>`,
		`<a><?xml version="1.0"?></a>`,
		"<r>\r\n<e Id=\"x\" t=\"a\tb\r\nc\"/>\r\n</r>",
	} {
		f.Add([]byte(d), "#x", "", false)
	}
	key := getPKI(f).signer["p256"]
	signer := document.Signer{Cert: key.cert}
	f.Fuzz(func(t *testing.T, doc []byte, ref, parent string, signingTime bool) {
		p, err := Prepare(doc, signer, Options{Reference: ref, Parent: parent, SigningTime: signingTime})
		if err != nil {
			var de *document.Error
			if !errors.As(err, &de) || de.Code != document.CodeBadDocument || de.Reason == "" {
				t.Fatalf("not a BAD_DOCUMENT with a reason: %v", err)
			}
			return
		}
		out, err := p.Finish(context.Background(), signWith(t, key.key, p))
		if err != nil {
			t.Fatalf("Finish: %v", err)
		}
		pp := p.(*prepared)
		id := string(regexp.MustCompile(` Id="([^"]+)"`).FindSubmatch(pp.sigHead)[1])
		s := signed{in: doc, out: out, sigID: id, prep: pp}
		checkOutside(t, s)

		si, err := canonicalIn(out, func(s *scanner, f *frame) bool {
			return f.uri == nsDSig && f.local == "SignedInfo" && s.depth() >= 2 && hasID(&s.stack[s.depth()-2], id)
		})
		if err != nil {
			t.Fatalf("the output does not parse: %v", err)
		}
		if sum := sha256.Sum256(si); !bytes.Equal(sum[:], p.Digest()) {
			t.Fatalf("SignedInfo in the output canonicalises to %q, not to what was signed", si)
		}
		if signingTime {
			obj, err := canonicalIn(out, func(s *scanner, f *frame) bool {
				return f.uri == nsDSig && f.local == "Object" && hasID(f, "Object-"+id)
			})
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(obj)
			if !bytes.Contains(pp.sigHead, []byte(base64.StdEncoding.EncodeToString(sum[:]))) {
				t.Fatalf("the Object in the output canonicalises to %q, whose digest is not in SignedInfo", obj)
			}
		}
	})
}

func hasID(f *frame, id string) bool {
	for _, v := range f.ids {
		if v == id {
			return true
		}
	}
	return false
}

// canonicalIn is the canonical form of the first element of doc for which
// match holds, in doc's context.
func canonicalIn(doc []byte, match func(*scanner, *frame) bool) ([]byte, error) {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	s := &scanner{data: bytes.TrimPrefix(doc, []byte("\xef\xbb\xbf")), out: w}
	s.startCapture = func(s *scanner, f *frame, _ []attr) bool { return match(s, f) }
	if err := s.run(nil); err != nil {
		return nil, err
	}
	if !s.captured {
		return nil, errors.New("element not found")
	}
	w.Flush()
	return buf.Bytes(), nil
}
