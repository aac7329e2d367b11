// Package xmldsig signs XML the way Vietnam's e-invoices (Thông tư
// 78/2021/TT-BTC) and electronic tax filings do: an enveloped XML-DSig
// signature (RSA-SHA256 or ECDSA-SHA256, SHA-256 digests, inclusive
// Canonical XML 1.0) over the element with a given Id, or the whole
// document, placed inside a given parent element, optionally with the
// signing time in an Object covered by a second Reference.
//
// The document is never re-serialised: Finish splices the Signature's text
// into the original bytes before the parent's end tag, so everything
// outside the new element stays byte for byte as it was. The only other
// change is a self-closing parent (<NBan/>) written as <NBan>…</NBan>,
// which canonical XML does not tell apart.
//
// Parsing refuses what a signed document never needs and an attacker
// would: any DOCTYPE (so no DTD, external entity or entity expansion),
// encodings other than UTF-8, and documents past the limits below. Every
// refusal is a *document.Error with code BAD_DOCUMENT and a reason.
// docs/xml-signing.md has the shape produced, where it comes from, and how
// a receiver verifies it.
package xmldsig

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"kyso.vn/kyso/document"
)

// Options says what to sign and where the signature goes.
type Options struct {
	// FileName is shown in the dialog (as the page named it).
	FileName string
	// Reference is the signed part: "" the whole document, or "#" and the
	// value of an Id or id attribute (e-invoices sign DLHDon Id="…", tax
	// filings HSoKhaiThue id="…").
	Reference string
	// Parent is the absolute path of the element that receives the
	// Signature, e.g. /HDon/DSCKS/NBan; "" (or "/") is the root. A step
	// without a prefix matches the local name in any namespace; a step
	// written prefix:name matches that name as written.
	Parent string
	// SigningTime adds an Object with
	// SignatureProperties/SignatureProperty/SigningTime (Vietnam's local
	// time, no zone) covered by a second Reference, as e-invoices carry.
	SigningTime bool
}

// ErrUnsupportedKey is returned by Prepare when the certificate's key is
// neither RSA nor ECDSA (XML-DSig has no other SHA-256 method the
// receivers know).
var ErrUnsupportedKey = errors.New("xmldsig: the certificate's key is neither RSA nor ECDSA")

// Algorithm identifiers (XML Signature 1.1, RFC 6931).
const (
	algC14N      = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
	algEnveloped = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
	algSHA256    = "http://www.w3.org/2001/04/xmlenc#sha256"
	algRSASHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	algECDSA256  = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
)

// vietnam is the zone of SigningTime: receivers read the zone-less time as
// Vietnam's (UTC+7 all year, no daylight saving), whatever zone the
// signing computer is set to.
var vietnam = time.FixedZone("ICT", 7*3600)

// Validate checks the options' syntax (not against a document): the engine
// may call it first to answer BAD_REQUEST. Prepare checks it too and
// answers BAD_DOCUMENT.
func (o Options) Validate() error {
	if o.Reference != "" {
		id, ok := strings.CutPrefix(o.Reference, "#")
		if !ok || id == "" || len(id) > MaxNameLen || strings.ContainsAny(id, " \t\r\n#%\"'<>&\\") {
			return fmt.Errorf("reference %q is neither \"\" nor \"#\" and an Id", o.Reference)
		}
	}
	if _, err := parsePath(o.Parent); err != nil {
		return err
	}
	return nil
}

// step is one step of a parent path.
type step struct {
	prefix, local string
	qualified     bool // written prefix:local
}

func parsePath(p string) ([]step, error) {
	if p == "" || p == "/" {
		return nil, nil
	}
	if !strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || len(p) > 4096 {
		return nil, fmt.Errorf("parent %q is not an absolute path like /HDon/DSCKS/NBan", p)
	}
	var steps []step
	for _, s := range strings.Split(p[1:], "/") {
		if s == "" || strings.ContainsAny(s, " \t\r\n[]()*@=\"'<>&") || len(steps) >= MaxDepth {
			return nil, fmt.Errorf("parent %q is not an absolute path like /HDon/DSCKS/NBan", p)
		}
		pre, loc, q := strings.Cut(s, ":")
		if !q {
			pre, loc = "", s
		}
		if loc == "" || (q && (pre == "" || strings.Contains(loc, ":"))) {
			return nil, fmt.Errorf("parent %q has a bad step %q", p, s)
		}
		steps = append(steps, step{prefix: pre, local: loc, qualified: q})
	}
	return steps, nil
}

func (st step) matches(f *frame) bool {
	if st.qualified {
		return st.prefix == f.prefix && st.local == f.local
	}
	return st.local == f.local
}

// parentInfo is where the Signature goes.
type parentInfo struct {
	found      int // elements matching the path
	path       string
	prefix     string
	local      string
	tagEnd     int  // offset after its start tag
	selfClose  bool // <NBan/>
	endOff     int  // offset of its end tag (when not self-closing)
	scope      *scope
	ancestorID []string // Id-like attribute values of it and its ancestors
}

// existingRef is a Reference of a signature already in the document.
type existingRef struct {
	uri      string
	filtered bool   // has an XPath or XSLT transform: may exclude new content
	where    string // path of its Signature
}

// prepared is a document ready to be signed.
type prepared struct {
	xml       []byte
	summary   document.Summary
	signer    document.Signer
	parent    parentInfo
	sigHead   []byte // <Signature …><SignedInfo>…</SignedInfo>
	sigTail   []byte // <KeyInfo>…</KeyInfo>[<Object>…</Object>]</Signature>
	digest    []byte
	ecdsaSize int // bytes of r and of s; 0 for RSA
}

func (p *prepared) Summary() document.Summary { return p.summary }
func (p *prepared) Digest() []byte            { return bytes.Clone(p.digest) }
func (p *prepared) Hash() crypto.Hash         { return crypto.SHA256 }

// Prepare parses xml, checks it, and computes the digest of the SignedInfo
// Kyso will place under opts.Parent. xml must stay unchanged until Finish.
// Errors about the document or the options are *document.Error
// (BAD_DOCUMENT); a key that is neither RSA nor ECDSA is ErrUnsupportedKey.
func Prepare(xmlDoc []byte, signer document.Signer, opts Options) (document.Prepared, error) {
	if signer.Cert == nil {
		return nil, errors.New("xmldsig: no signing certificate")
	}
	var sigAlg string
	ecdsaSize := 0
	switch k := signer.Cert.PublicKey.(type) {
	case *rsa.PublicKey:
		sigAlg = algRSASHA256
	case *ecdsa.PublicKey:
		sigAlg = algECDSA256
		ecdsaSize = (k.Curve.Params().BitSize + 7) / 8
	default:
		return nil, ErrUnsupportedKey
	}
	if err := opts.Validate(); err != nil {
		return nil, document.Bad("%v", err)
	}
	if len(xmlDoc) > MaxSize {
		return nil, document.Bad("the XML is larger than %d MiB", MaxSize>>20)
	}
	steps, _ := parsePath(opts.Parent)
	refID := strings.TrimPrefix(opts.Reference, "#")

	body := xmlDoc
	base := 0
	if bytes.HasPrefix(body, []byte("\xef\xbb\xbf")) {
		body, base = body[3:], 3 // a UTF-8 byte order mark, kept in the output
	}

	h := sha256.New()
	out := bufio.NewWriterSize(h, 64<<10)
	var (
		par      = parentInfo{path: opts.Parent}
		refFound int
		refByID  bool // the element found has the value in ID only
		refs     []existingRef
		sum      = newSummaryReader()
		sigDepth int // depth of the ds:Signature being read; 0: none
		sigPath  string
		inRef    = -1 // index in refs of the Reference being read
		refDepth int
		root     frame // the root element's name
	)
	isParent := func(f *frame, depth int) bool {
		if len(steps) == 0 {
			return depth == 1
		}
		return f.onPath && depth == len(steps)
	}
	s := &scanner{data: body, out: out, wholeDoc: refID == ""}
	s.onStart = func(s *scanner, f *frame, attrs []attr, off, end int) error {
		d := s.depth()
		if d == 1 {
			root = frame{prefix: f.prefix, local: f.local}
		}
		f.onPath = f.onPath && d <= len(steps) && steps[d-1].matches(f)
		if isParent(f, d) {
			if a := s.conflictingXMLAttr(0); a != "" {
				return document.Bad("%s is set to different values around %s: verifiers disagree on its canonical form (C14N 1.0), so the signature could not be checked everywhere", a, pathOf(s))
			}
			if par.found++; par.found > 1 {
				return document.Bad("more than one element matches %s: the parent must be one element", opts.Parent)
			}
			par.prefix, par.local = f.prefix, f.local
			par.tagEnd = end
			par.selfClose = bytes.HasSuffix(s.data[off:end], []byte("/>"))
			par.scope = s.scope()
			par.ancestorID = par.ancestorID[:0]
			for i := range s.stack {
				par.ancestorID = append(par.ancestorID, s.stack[i].ids...)
			}
		}
		match := false
		if refID != "" {
			// Receivers resolve Id, id and (.NET's SignedXml) ID, and refuse
			// a reference two elements answer: so does Kyso.
			byIDOnly := true
			for _, a := range attrs {
				if a.prefix == "" && (a.local == "Id" || a.local == "id" || a.local == "ID") && a.value == refID {
					match = true
					byIDOnly = byIDOnly && a.local == "ID"
				}
			}
			if match {
				refFound++
				refByID = byIDOnly
				if a := s.conflictingXMLAttr(f.xmlPushed); a != "" && refFound == 1 {
					return document.Bad("%s is set to different values around %s: verifiers disagree on its canonical form (C14N 1.0), so the signature could not be checked everywhere", a, pathOf(s))
				}
			}
			if refFound > 1 {
				return document.Bad("more than one element has the Id %q", refID)
			}
		}
		// Signatures already there, to keep them valid.
		if f.uri == nsDSig {
			switch {
			case sigDepth == 0 && f.local == "Signature":
				sigDepth, sigPath = d, pathOf(s)
			case sigDepth > 0 && f.local == "Reference":
				uri := ""
				for _, a := range attrs {
					if a.prefix == "" && a.local == "URI" {
						uri = a.value
					}
				}
				refs = append(refs, existingRef{uri: uri, where: sigPath})
				inRef, refDepth = len(refs)-1, d
			case inRef >= 0 && f.local == "Transform":
				for _, a := range attrs {
					if a.prefix == "" && a.local == "Algorithm" && isFilter(a.value) {
						refs[inRef].filtered = true
					}
				}
			}
		}
		// The dialog shows only what is signed: the summary is read inside
		// the signed element (its subtree is captured from here on).
		if refID == "" || s.capDepth > 0 || (match && refFound == 1) {
			sum.start(s, f)
		}
		return nil
	}
	s.startCapture = func(s *scanner, f *frame, attrs []attr) bool {
		if refID == "" {
			return s.depth() == 1
		}
		return refFound == 1
	}
	s.onText = func(s *scanner, t []byte) { sum.text(t) }
	s.onEnd = func(s *scanner, f *frame, off int) {
		d := s.depth()
		if isParent(f, d) {
			par.endOff = off
		}
		if d == refDepth {
			inRef, refDepth = -1, 0
		}
		if d == sigDepth {
			sigDepth = 0
		}
		sum.end(s)
	}
	if err := s.run(nil); err != nil {
		return nil, err
	}
	if err := out.Flush(); err != nil {
		return nil, err
	}
	switch {
	case refID != "" && (refFound == 0 || refByID):
		return nil, document.Bad("no element has the Id %q (an Id or id attribute)", refID)
	case par.found == 0:
		return nil, document.Bad("no element %s", opts.Parent)
	}
	for _, r := range refs {
		if covers(r, par.ancestorID) {
			return nil, document.Bad("the signature at %s covers %s: a new signature there would invalidate it", r.where, parentName(opts.Parent, &root))
		}
	}
	par.tagEnd += base
	par.endOff += base
	refDigest := h.Sum(nil)

	if signer.Time.IsZero() {
		signer.Time = time.Now()
	}
	p := &prepared{
		xml:       xmlDoc,
		signer:    signer,
		parent:    par,
		ecdsaSize: ecdsaSize,
		summary:   sum.summary(xmlDoc, opts.FileName, &root),
	}
	sigID, err := newID(xmlDoc, par.local)
	if err != nil {
		return nil, err
	}
	if err := p.build(sigID, sigAlg, opts.Reference, refDigest, opts.SigningTime); err != nil {
		return nil, err
	}
	return p, nil
}

func pathOf(s *scanner) string {
	var b strings.Builder
	for _, f := range s.stack {
		b.WriteByte('/')
		b.WriteString(qname(f.prefix, f.local))
	}
	return b.String()
}

func parentName(path string, root *frame) string {
	if path == "" || path == "/" {
		return "/" + qname(root.prefix, root.local)
	}
	return path
}

// isFilter reports whether a transform may leave nodes out of a reference
// (then a new signature may not break it, so it is not refused).
func isFilter(alg string) bool {
	switch alg {
	case "http://www.w3.org/TR/1999/REC-xpath-19991116",
		"http://www.w3.org/2002/06/xmldsig-filter2",
		"http://www.w3.org/TR/1999/REC-xslt-19991116":
		return true
	}
	return false
}

// covers reports whether an existing reference signs content that a
// signature under the parent would change.
func covers(r existingRef, ancestorIDs []string) bool {
	if r.filtered {
		return false
	}
	if r.uri == "" || strings.HasPrefix(r.uri, "#xpointer(") {
		return true
	}
	id, ok := strings.CutPrefix(r.uri, "#")
	if !ok {
		return false // an external resource
	}
	for _, a := range ancestorIDs {
		if a == id {
			return true
		}
	}
	return false
}

// newID makes the Signature's Id: the parent's name (its ASCII letters,
// digits, '_', '-' and '.': the Id ends up in URI fragments) and 64 random
// bits, checked not to occur in the document (so the Object's Id is unique
// too).
func newID(doc []byte, parent string) (string, error) {
	parent = strings.Map(func(r rune) rune {
		if r < 0x80 && (r == '_' || r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return r
		}
		return -1
	}, parent)
	if parent == "" || !(parent[0] == '_' || parent[0] >= 'a' && parent[0] <= 'z' || parent[0] >= 'A' && parent[0] <= 'Z') {
		parent = "Sig" + parent
	}
	for range 8 {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		id := parent + "-" + hex.EncodeToString(b[:])
		if !bytes.Contains(doc, []byte(id)) {
			return id, nil
		}
	}
	return "", errors.New("xmldsig: no unique signature Id") // 2^-64 eight times: a broken random source
}

// build writes the Signature around the digests and computes the digest
// the token signs: SHA-256 of SignedInfo's canonical form in the parent's
// context (inclusive C14N copies in every namespace in scope there).
func (p *prepared) build(sigID, sigAlg, reference string, refDigest []byte, signingTime bool) error {
	head := `<Signature xmlns="` + nsDSig + `" Id="` + sigID + `">`
	var obj, objID string
	var objDigest []byte
	if signingTime {
		// The shape of the tax authority's own signatures (docs/xml-signing.md):
		// SignatureProperties in no namespace, so the ds schema's lax
		// Object content accepts SigningTime.
		objID = "Object-" + sigID
		obj = `<Object Id="` + objID + `"><SignatureProperties xmlns=""><SignatureProperty Id="SignatureProperty-` + sigID +
			`" Target="#` + sigID + `"><SigningTime>` + p.signer.Time.In(vietnam).Format("2006-01-02T15:04:05") +
			`</SigningTime></SignatureProperty></SignatureProperties></Object>`
		var err error
		if objDigest, err = canonicalDigest(head+obj+`</Signature>`, "Object", p.parent.scope); err != nil {
			return err
		}
	}
	var si strings.Builder
	p.writeSignedInfo(&si, sigAlg, reference, refDigest, objID, objDigest)
	head += si.String()
	d, err := canonicalDigest(head+`</Signature>`, "SignedInfo", p.parent.scope)
	if err != nil {
		return err
	}
	p.digest = d
	p.sigHead = []byte(head)
	var tail strings.Builder
	tail.WriteString(`<KeyInfo><X509Data><X509SubjectName>`)
	tail.WriteString(escapeString(subjectName(p.signer.Cert)))
	tail.WriteString(`</X509SubjectName><X509Certificate>`)
	tail.WriteString(base64.StdEncoding.EncodeToString(p.signer.Cert.Raw))
	tail.WriteString(`</X509Certificate></X509Data></KeyInfo>`)
	tail.WriteString(obj)
	tail.WriteString(`</Signature>`)
	p.sigTail = []byte(tail.String())
	return nil
}

func (p *prepared) writeSignedInfo(w *strings.Builder, sigAlg, reference string, refDigest []byte, objID string, objDigest []byte) {
	w.WriteString(`<SignedInfo><CanonicalizationMethod Algorithm="` + algC14N + `"/><SignatureMethod Algorithm="` + sigAlg + `"/>`)
	w.WriteString(`<Reference URI="`)
	w.WriteString(escapeString(reference))
	w.WriteString(`"><Transforms><Transform Algorithm="` + algEnveloped + `"/></Transforms><DigestMethod Algorithm="` + algSHA256 + `"/><DigestValue>`)
	w.WriteString(base64.StdEncoding.EncodeToString(refDigest))
	w.WriteString(`</DigestValue></Reference>`)
	if objID != "" {
		w.WriteString(`<Reference URI="#` + objID + `"><DigestMethod Algorithm="` + algSHA256 + `"/><DigestValue>`)
		w.WriteString(base64.StdEncoding.EncodeToString(objDigest))
		w.WriteString(`</DigestValue></Reference>`)
	}
	w.WriteString(`</SignedInfo>`)
}

// canonicalDigest is SHA-256 of the canonical form of the child of the
// Signature fragment named local, the fragment placed in sc.
func canonicalDigest(fragment, local string, sc *scope) ([]byte, error) {
	h := sha256.New()
	out := bufio.NewWriter(h)
	s := &scanner{data: []byte(fragment), out: out}
	s.startCapture = func(s *scanner, f *frame, _ []attr) bool {
		return s.depth() == 2 && f.local == local
	}
	if err := s.run(sc); err != nil {
		return nil, fmt.Errorf("xmldsig: canonicalising the %s Kyso built: %w", local, err)
	}
	if !s.captured {
		return nil, fmt.Errorf("xmldsig: no %s in the Signature Kyso built", local)
	}
	if err := out.Flush(); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// Finish checks the token's signature against the certificate, and returns
// the document with the Signature spliced in before the parent's end tag.
func (p *prepared) Finish(_ context.Context, signature []byte) ([]byte, error) {
	value, err := p.signatureValue(signature)
	if err != nil {
		return nil, err
	}
	var sig bytes.Buffer
	sig.Grow(len(p.sigHead) + len(p.sigTail) + 64 + base64.StdEncoding.EncodedLen(len(value)))
	sig.Write(p.sigHead)
	sig.WriteString(`<SignatureValue>`)
	sig.WriteString(base64.StdEncoding.EncodeToString(value))
	sig.WriteString(`</SignatureValue>`)
	sig.Write(p.sigTail)

	doc := p.xml
	var out bytes.Buffer
	out.Grow(len(doc) + sig.Len() + len(p.parent.local) + len(p.parent.prefix) + 4)
	if p.parent.selfClose {
		// <NBan/> or <NBan …/> becomes <NBan …>Signature</NBan>.
		out.Write(doc[:p.parent.tagEnd-2])
		out.WriteByte('>')
		out.Write(sig.Bytes())
		out.WriteString("</" + qname(p.parent.prefix, p.parent.local) + ">")
		out.Write(doc[p.parent.tagEnd:])
	} else {
		out.Write(doc[:p.parent.endOff])
		out.Write(sig.Bytes())
		out.Write(doc[p.parent.endOff:])
	}
	return out.Bytes(), nil
}

// signatureValue turns the token's signature into SignatureValue's bytes:
// RSA as is; ECDSA from DER SEQUENCE{r, s} to r‖s, each as wide as the
// curve's order (XML Signature 1.1 §6.4.3). Either must verify against the
// certificate: a document is never written with a signature that does not.
func (p *prepared) signatureValue(sig []byte) ([]byte, error) {
	switch k := p.signer.Cert.PublicKey.(type) {
	case *rsa.PublicKey:
		if err := rsa.VerifyPKCS1v15(k, crypto.SHA256, p.digest, sig); err != nil {
			return nil, fmt.Errorf("xmldsig: the token's signature does not verify against the certificate: %w", err)
		}
		return bytes.Clone(sig), nil
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, p.digest, sig) {
			return nil, errors.New("xmldsig: the token's signature does not verify against the certificate")
		}
		return ecdsaRaw(sig, p.ecdsaSize)
	}
	return nil, ErrUnsupportedKey
}

func escapeString(v string) string {
	var b strings.Builder
	w := bufio.NewWriter(&b)
	escapeAttr(w, v)
	w.Flush()
	return b.String()
}
