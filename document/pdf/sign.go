// Package pdf signs PDF documents as PAdES baseline B-B, or B-T with a
// timestamp authority (ETSI EN 319 142-1): an incremental update that
// leaves the original bytes untouched and adds an approval signature
// (/SubFilter /ETSI.CAdES.detached, a CAdES-BES SignedData from
// document/cms, /M the claimed signing time) in a new signature field,
// visible as a stamp with an embedded Vietnamese-capable font, or
// invisible.
//
// The reader is this package's own (lex.go, xref.go, reader.go): strict,
// lazy and bounded. It reads only what signing needs — the cross-reference
// sections, the catalog, the page tree, the form fields — so its cost is
// about that of hashing the file, and a file it cannot read exactly (a
// broken cross-reference, a truncated end, encryption) is refused with
// BAD_DOCUMENT rather than repaired: a repair is a guess, and a signature
// over a guess is one that readers may each see differently.
//
// Use: Prepare(data, signer, opts) → show Summary → token signs Digest
// with Hash → Finish(ctx, signature) → the signed PDF. data must not be
// modified until Finish returns; the output is one new slice (data's
// bytes, then the update).
package pdf

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"time"

	"kyso.vn/kyso/document"
	"kyso.vn/kyso/document/cms"
)

// Options of a PDF signature. The zero value is an invisible PAdES B-B
// signature with SHA-256.
type Options struct {
	FileName    string // shown in the Summary (as the page named it)
	Reason      string // /Reason (at most maxInfoText characters are kept)
	Location    string // /Location
	ContactInfo string // /ContactInfo
	// Stamp is the visible signature; nil makes it invisible.
	Stamp *Stamp
	// Timestamper, when set, makes the signature PAdES B-T: Finish asks it
	// for a token over the signature value. A failure is TIMESTAMP_FAILED
	// and no output.
	Timestamper document.Timestamper
	// Hash is the digest algorithm (SHA-256 when zero; SHA-384 or SHA-512
	// for keys that want them).
	Hash crypto.Hash

	// certify makes a certification signature with DocMDP permission P
	// (1–3) instead of an approval one. Kyso never certifies (DESIGN: an
	// approval signature); the tests use it to make certified PDFs.
	certify int
}

// Prepare parses and checks data, builds the incremental update with its
// signature placeholder and computes the digest the token signs. Errors
// about the document are *document.Error BAD_DOCUMENT with a reason.
func Prepare(data []byte, signer document.Signer, opts Options) (document.Prepared, error) {
	if signer.Cert == nil {
		return nil, fmt.Errorf("pdf: no signer certificate")
	}
	h := opts.Hash
	if h == 0 {
		h = crypto.SHA256
	}
	if signer.Time.IsZero() {
		signer.Time = time.Now()
	}
	want := 0
	if opts.Stamp != nil {
		want = opts.Stamp.Page
		if want == 0 {
			want = -1
		}
	}
	p, err := open(data, want)
	if err != nil {
		return nil, err
	}
	copts := cms.Options{Timestamper: opts.Timestamper}
	size, err := cms.MaxSize(signer, h, copts)
	if err != nil {
		return nil, err
	}
	u := newUpdate(p)
	sigRef := u.alloc()
	widgetRef := u.alloc()
	pg := p.first
	rectUser := Array{int64(0), int64(0), int64(0), int64(0)}
	var ap Ref
	if opts.Stamp != nil {
		pg = p.chosen
		r, a, err := u.stamp(opts.Stamp, pg, signer)
		if err != nil {
			return nil, err
		}
		rectUser, ap = r, a
	} else {
		ap = u.alloc()
		u.put(ap, &Stream{Dict: Dict{"Type": Name("XObject"), "Subtype": Name("Form"), "BBox": Array{int64(0), int64(0), int64(0), int64(0)}}})
	}
	widget := Dict{
		"Type":    Name("Annot"),
		"Subtype": Name("Widget"),
		"FT":      Name("Sig"),
		"T":       encodeText(p.fieldName()),
		"V":       sigRef,
		"F":       int64(132), // Print | Locked
		"P":       pg.ref,
		"Rect":    rectUser,
		"AP":      Dict{"N": ap},
	}
	u.put(widgetRef, widget)
	if err := u.addAnnot(pg, widgetRef); err != nil {
		return nil, err
	}
	u.addField(widgetRef)
	if opts.certify > 0 {
		cat := Dict{}
		src := p.catalog
		if c, ok := u.objs[p.rootRef].(Dict); ok {
			src = c
		}
		for k, v := range src {
			cat[k] = v
		}
		cat["Perms"] = Dict{"DocMDP": sigRef}
		u.put(p.rootRef, cat)
	}
	body, brAt, contentsAt := sigDict(signer, opts, size)
	u.putRaw(sigRef, body)
	upd, rawAt, err := u.encode()
	if err != nil {
		return nil, err
	}
	// Fill in the ByteRange: everything but the hex string of /Contents.
	base := len(data)
	c0 := base + rawAt[sigRef] + contentsAt
	c1 := c0 + 2 + 2*size
	total := base + len(upd)
	br := fmt.Sprintf("[0 %d %d %d", c0, c1, total-c1)
	at := rawAt[sigRef] + brAt
	copy(upd[at:at+byteRangeWidth], br+string(bytes.Repeat([]byte(" "), byteRangeWidth-1-len(br)))+"]")

	// One pass over the original bytes gives both the Summary's SHA-256
	// and the start of the ByteRange digest.
	dh := h.New()
	dh.Write(data)
	var sum [32]byte
	if cl, ok := dh.(hash.Cloner); ok && h == crypto.SHA256 {
		c, err := cl.Clone()
		if err != nil {
			return nil, err
		}
		copy(sum[:], c.Sum(nil))
	} else {
		sum = sha256.Sum256(data)
	}
	dh.Write(upd[:c0-base])
	dh.Write(upd[c1-base:])
	inner, err := cms.Prepare(dh.Sum(nil), h, signer, copts)
	if err != nil {
		return nil, err
	}
	// The signed PDF, built here at its final size (Finish only writes the
	// CMS into /Contents): the one copy of the document this package makes,
	// after which the caller may let data go while the person decides.
	out := make([]byte, total)
	copy(out, data)
	copy(out[base:], upd)
	return &prepared{
		out:   out,
		hexAt: c0 + 1,
		size:  size,
		inner: inner,
		summary: document.Summary{
			Kind:     "pdf",
			FileName: opts.FileName,
			Title:    p.title,
			Pages:    p.pages,
			SHA256:   sum,
		},
	}, nil
}

// maxInfoText bounds /Reason, /Location and /ContactInfo (characters).
const maxInfoText = 500

// byteRangeWidth is the fixed width of the ByteRange array as written:
// room for four 10-digit numbers.
const byteRangeWidth = 48

// sigDict writes the signature dictionary with placeholders; it returns
// where the ByteRange array and the /Contents '<' are in it.
func sigDict(signer document.Signer, opts Options, size int) (body []byte, brAt, contentsAt int) {
	b := []byte("<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange ")
	brAt = len(b)
	b = append(b, "[0 0 0 0"...)
	b = append(b, bytes.Repeat([]byte(" "), byteRangeWidth-len("[0 0 0 0")-1)...)
	b = append(b, "]\n/Contents "...)
	contentsAt = len(b)
	b = append(b, '<')
	b = append(b, bytes.Repeat([]byte("0"), 2*size)...)
	b = append(b, ">\n/M "...)
	b = appendString(b, String(pdfDate(signer.Time)))
	if cn := signer.Cert.Subject.CommonName; cn != "" {
		b = append(b, " /Name "...)
		b = appendString(b, encodeText(cn))
	}
	for _, kv := range []struct {
		k Name
		v string
	}{{"Reason", opts.Reason}, {"Location", opts.Location}, {"ContactInfo", opts.ContactInfo}} {
		if kv.v != "" {
			b = append(b, ' ')
			b = appendName(b, kv.k)
			b = append(b, ' ')
			b = appendString(b, encodeText(clipText(kv.v, maxInfoText)))
		}
	}
	if opts.certify > 0 {
		b = fmt.Appendf(b, " /Reference [<< /Type /SigRef /TransformMethod /DocMDP /TransformParams << /Type /TransformParams /P %d /V /1.2 >> >>]", opts.certify)
	}
	b = append(b, " /Prop_Build << /App << /Name /Kyso >> >> >>"...)
	return b, brAt, contentsAt
}

// pdfDate is a PDF date: D:YYYYMMDDHHmmSS+HH'mm'.
func pdfDate(t time.Time) string {
	s := t.Format("D:20060102150405")
	_, off := t.Zone()
	if off == 0 {
		return s + "Z"
	}
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%s%c%02d'%02d'", s, sign, off/3600, off%3600/60)
}

// fieldName is a top-level field name not taken yet: Signature1, 2, …
func (p *parsed) fieldName() string {
	for i := p.signatures + 1; ; i++ {
		n := "Signature" + strconv.Itoa(i)
		if !p.fieldNames[n] {
			return n
		}
	}
}

// addAnnot appends the widget to the page's /Annots, rewriting the array
// object when it is one, else the page.
func (u *update) addAnnot(pg *page, widget Ref) error {
	annots := pg.dict["Annots"]
	if r, ok := annots.(Ref); ok {
		o, err := u.p.resolve(r)
		if err != nil {
			return damaged(fmt.Errorf("the annotations of page %d: %w", pg.index+1, err))
		}
		if a, ok := o.(Array); ok {
			u.put(r, append(a[:len(a):len(a)], widget))
			return nil
		}
		annots = nil // a reference to something else: replaced
	}
	a, _ := annots.(Array)
	d := Dict{}
	for k, v := range pg.dict {
		d[k] = v
	}
	d["Annots"] = append(a[:len(a):len(a)], widget)
	u.put(pg.ref, d)
	return nil
}

// addField adds the signature field to the form (making one if needed)
// and sets SigFlags to SignaturesExist | AppendOnly.
func (u *update) addField(field Ref) {
	p := u.p
	form := Dict{}
	for k, v := range p.acroForm {
		form[k] = v
	}
	if p.fieldsRef != nil {
		u.put(*p.fieldsRef, append(p.fields[:len(p.fields):len(p.fields)], field))
	} else {
		form["Fields"] = append(p.fields[:len(p.fields):len(p.fields)], field)
	}
	flags, _ := p.acroForm["SigFlags"].(int64)
	form["SigFlags"] = flags | 3
	if p.acroRef != nil {
		u.put(*p.acroRef, form)
		return
	}
	cat := Dict{}
	for k, v := range p.catalog {
		cat[k] = v
	}
	if p.acroForm != nil {
		cat["AcroForm"] = form // it was direct: it stays so
	} else {
		r := u.alloc()
		u.put(r, form)
		cat["AcroForm"] = r
	}
	u.put(p.rootRef, cat)
}

// prepared is Prepare's result.
type prepared struct {
	out     []byte // the signed PDF but for its CMS
	hexAt   int    // offset in out of the first hex digit of /Contents
	size    int    // bytes of CMS the placeholder holds
	inner   document.Prepared
	summary document.Summary
}

func (p *prepared) Summary() document.Summary { return p.summary }
func (p *prepared) Digest() []byte            { return p.inner.Digest() }
func (p *prepared) Hash() crypto.Hash         { return p.inner.Hash() }

// Finish builds the CMS from the token's signature (with the timestamp
// for B-T) and returns the signed PDF: the original bytes, then the update
// with the CMS in /Contents. Once: it writes into the PDF Prepare built.
func (p *prepared) Finish(ctx context.Context, signature []byte) ([]byte, error) {
	der, err := p.inner.Finish(ctx, signature)
	if err != nil {
		return nil, err
	}
	if len(der) > p.size {
		// MaxSize is an upper bound for everything but a timestamp token
		// beyond cms.TimestampAllowance.
		return nil, &document.Error{Code: document.CodeTimestampFailed,
			Reason: fmt.Sprintf("the signature with its timestamp has %d bytes, more than the %d reserved", len(der), p.size)}
	}
	hex.Encode(p.out[p.hexAt:], der)
	return p.out, nil
}
