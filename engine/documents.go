package engine

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"kyso.vn/kyso/document"
	"kyso.vn/kyso/document/cms"
	"kyso.vn/kyso/document/pdf"
	"kyso.vn/kyso/document/tsa"
	"kyso.vn/kyso/document/xmldsig"
	"kyso.vn/kyso/internal/audit"
	"kyso.vn/kyso/protocol"
	"kyso.vn/kyso/token"
)

// The document operations (DESIGN.md, "Document operations"): signPdf,
// signCms and signXml. Each is parsed here strictly (wrong types, bad
// base64, a text too long: BAD_REQUEST, before any dialog), then run as a
// Job whose Prepare hands the documents to document/pdf, document/cms or
// document/xmldsig (a document they cannot sign: BAD_DOCUMENT, still
// before any dialog) and whose Finish builds the signed documents from the
// token's signatures (a timestamp authority that fails: TIMESTAMP_FAILED,
// and nothing is returned).

// Limits of the document operations' params.
const (
	maxDocuments = 100  // documents of one signPdf or signXml
	maxFileName  = 255  // characters of a fileName
	maxInfoText  = 500  // characters of reason, location, contactInfo
	maxStampText = 1000 // characters of stamp.text
)

// pdfParams is one PDF of signPdf: the params themselves, or one entry of
// "documents".
type pdfParams struct {
	PDF         docString      `json:"pdf"`
	FileName    string         `json:"fileName"`
	Reason      string         `json:"reason"`
	Location    string         `json:"location"`
	ContactInfo string         `json:"contactInfo"`
	Stamp       jsontext.Value `json:"stamp"` // left out: the default stamp; null: none
}

// docParams are the params of signPdf and signXml: one document (P's
// fields, beside the others) or "documents".
type docParams[P any] struct {
	CertificateID string `json:"certificateId"`
	Description   string `json:"description"`
	Documents     *[]P   `json:"documents"`
	One           P      `json:",inline"`
}

type stampParams struct {
	Page  *int       `json:"page"`
	Rect  *[]float64 `json:"rect"`
	Text  *string    `json:"text"`
	Image *string    `json:"image"`
}

// xmlParams is one XML document of signXml.
type xmlParams struct {
	XML         docString `json:"xml"`
	FileName    string    `json:"fileName"`
	Reference   string    `json:"reference"`
	Parent      string    `json:"parent"`
	SigningTime bool      `json:"signingTime"`
}

// pdfDoc and xmlDoc are validated documents.
type pdfDoc struct {
	data []byte
	opts pdf.Options // without Timestamper, set when the job runs
}

type xmlDoc struct {
	data []byte
	opts xmldsig.Options
}

// docRequest is a validated signPdf or signXml: the certificate, the
// page's description, and the documents; list tells which form the page
// used (the result takes the same).
type docRequest[D any] struct {
	certID      string
	description string
	docs        []D
	list        bool
}

func parseSignPdf(raw json.RawMessage) (docRequest[pdfDoc], *failure) {
	return parseDocs(raw, "pdf, fileName, reason, location, contactInfo, stamp", func(d pdfParams) bool {
		return d.PDF.given || d.FileName != "" || d.Reason != "" || d.Location != "" || d.ContactInfo != "" || len(d.Stamp) > 0
	}, parsePdfDoc)
}

func parseSignXml(raw json.RawMessage) (docRequest[xmlDoc], *failure) {
	return parseDocs(raw, "xml, fileName, reference, parent, signingTime", func(d xmlParams) bool {
		return d.XML.given || d.FileName != "" || d.Reference != "" || d.Parent != "" || d.SigningTime
	}, parseXmlDoc)
}

// parseDocs reads the params of signPdf or signXml: the certificate id,
// the description, and one document in the params (given tells whether
// any of its keys are there) or 1–maxDocuments in "documents" (then
// r.list), never both; parse checks each document.
func parseDocs[P, D any](raw json.RawMessage, keys string, given func(P) bool, parse func(P) (D, *failure)) (docRequest[D], *failure) {
	var p docParams[P]
	var r docRequest[D]
	if f := decodeStrict(raw, &p, "params: "); f != nil {
		return r, f
	}
	if !isCertID(p.CertificateID) {
		return r, badRequest("\"certificateId\" must be 64 lowercase hex characters")
	}
	if f := checkDescription(p.Description); f != nil {
		return r, f
	}
	r.certID, r.description = p.CertificateID, p.Description
	list := []P{p.One}
	if p.Documents != nil {
		if given(p.One) {
			return r, badRequest("with \"documents\", give %s in each document", keys)
		}
		if n := len(*p.Documents); n < 1 || n > maxDocuments {
			return r, badRequest("\"documents\" must hold 1–%d documents", maxDocuments)
		}
		list, r.list = *p.Documents, true
	}
	for i, d := range list {
		doc, f := parse(d)
		if f != nil {
			return r, r.where(i, f)
		}
		r.docs = append(r.docs, doc)
	}
	return r, nil
}

func parseXmlDoc(d xmlParams) (xmlDoc, *failure) {
	if len(d.XML.text) == 0 {
		return xmlDoc{}, badRequest("\"xml\" is missing")
	}
	if f := checkFileName(d.FileName); f != nil {
		return xmlDoc{}, f
	}
	o := xmldsig.Options{FileName: d.FileName, Reference: d.Reference, Parent: d.Parent, SigningTime: d.SigningTime}
	if err := o.Validate(); err != nil {
		return xmlDoc{}, badRequest("%s", docReason(err))
	}
	return xmlDoc{data: d.XML.text, opts: o}, nil
}

// where names the document a failure is about, when the page gave a list.
func (r *docRequest[D]) where(i int, f *failure) *failure {
	if r.list && len(f.args) == 1 {
		f.args = []any{fmt.Sprintf("documents[%d]: %v", i, f.args[0])}
	}
	return f
}

func parsePdfDoc(d pdfParams) (pdfDoc, *failure) {
	if len(d.PDF.text) == 0 {
		return pdfDoc{}, badRequest("\"pdf\" is missing")
	}
	data, err := decodeB64(d.PDF.text)
	if err != nil {
		return pdfDoc{}, badRequest("\"pdf\": %v", err)
	}
	if f := checkFileName(d.FileName); f != nil {
		return pdfDoc{}, f
	}
	for _, t := range []struct{ name, s string }{{"reason", d.Reason}, {"location", d.Location}, {"contactInfo", d.ContactInfo}} {
		if f := checkText(t.name, t.s, maxInfoText); f != nil {
			return pdfDoc{}, f
		}
	}
	stamp, f := parseStamp(d.Stamp)
	if f != nil {
		return pdfDoc{}, f
	}
	return pdfDoc{data: data, opts: pdf.Options{FileName: d.FileName, Reason: d.Reason, Location: d.Location,
		ContactInfo: d.ContactInfo, Stamp: stamp}}, nil
}

// parseStamp reads "stamp": left out, the default visible stamp (last
// page, bottom right, the default text); null, none (an invisible
// signature). Whether the rect fits the page is the PDF's to say
// (BAD_DOCUMENT).
func parseStamp(raw jsontext.Value) (*pdf.Stamp, *failure) {
	if len(raw) == 0 {
		return &pdf.Stamp{Page: -1}, nil
	}
	if string(raw) == "null" {
		return nil, nil
	}
	if raw.Kind() != '{' {
		return nil, badRequest("\"stamp\" must be an object, or null for an invisible signature")
	}
	var p stampParams
	if f := decodeStrict(raw, &p, "params: stamp: "); f != nil {
		return nil, f
	}
	s := &pdf.Stamp{Page: -1}
	if p.Page != nil {
		if *p.Page < 1 && *p.Page != -1 {
			return nil, badRequest("\"stamp.page\" must be a page number from 1, or -1 for the last page")
		}
		s.Page = *p.Page
	}
	if p.Rect != nil {
		r := *p.Rect
		if len(r) != 4 || r[0] < 0 || r[1] < 0 || r[2] <= 0 || r[3] <= 0 {
			return nil, badRequest("\"stamp.rect\" must be [x, y, width, height] in points, x and y ≥ 0, width and height > 0")
		}
		copy(s.Rect[:], r)
	}
	if p.Text != nil {
		if f := checkStampText(*p.Text); f != nil {
			return nil, f
		}
		s.Text = *p.Text
	}
	if p.Image != nil {
		img, err := decodeB64(*p.Image)
		if err != nil || len(img) == 0 {
			return nil, badRequest("\"stamp.image\": not standard base64 with padding of a PNG or JPEG")
		}
		s.Image = img
	}
	return s, nil
}

// checkStampText is checkText allowing line breaks ("\n" between the
// stamp's lines).
func checkStampText(s string) *failure {
	if utf8.RuneCountInString(s) > maxStampText {
		return badRequest("%q longer than %d characters", "stamp.text", maxStampText)
	}
	for _, r := range s {
		if r != '\n' && (unicode.IsControl(r) || isBidiControl(r)) {
			return badRequest("%q holds control characters", "stamp.text")
		}
	}
	return nil
}

func checkFileName(s string) *failure { return checkText("fileName", s, maxFileName) }

// docReason is the reason of a document error, or its text.
func docReason(err error) string {
	var de *document.Error
	if errors.As(err, &de) {
		return de.Reason
	}
	return err.Error()
}

// Results of the document operations. docResult writes signPdf's and
// signXml's (the tests read them back into pdfResult and xmlResult).
type (
	pdfResult struct {
		PDF string `json:"pdf"`
	}
	xmlResult struct {
		XML string `json:"xml"`
	}
	cmsResult struct {
		CMS string `json:"cms"`
	}
	cmsListResult struct {
		CMSList []string `json:"cmsList"`
	}
)

type docListResult[R any] struct {
	Documents []R `json:"documents"`
}

// docResult is the result of signPdf ({"pdf": base64}) or signXml
// ({"xml": text}), or {"documents": [those]} when the page gave a list.
// It is a rawResult: the signed documents go straight into the answer.
type docResult struct {
	key  string // "pdf" or "xml"
	b64  bool   // the value is the document's base64, else its text
	list bool
	docs [][]byte
}

func (r docResult) size() int {
	n := 0
	if r.list {
		n = len(`{"documents":[]}`) + len(r.docs) - 1 // and the commas
	}
	for _, d := range r.docs {
		n += len(`{"":}`) + len(r.key)
		if r.b64 {
			n += base64.StdEncoding.EncodedLen(len(d)) + 2
		} else {
			n += quotedLen(d)
		}
	}
	return n
}

func (r docResult) appendJSON(b []byte) []byte {
	if r.list {
		b = append(b, `{"documents":[`...)
	}
	for i, d := range r.docs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(append(append(b, `{"`...), r.key...), `":`...)
		if r.b64 {
			// base64 needs no JSON escaping.
			b = append(base64.StdEncoding.AppendEncode(append(b, '"'), d), '"')
		} else {
			// encoding/json's escaping (and like marshal, no HTML
			// escaping) but for U+2028 and U+2029, which JSON allows
			// as they are. Invalid UTF-8 (a signed XML has none)
			// would become U+FFFD, as encoding/json makes it.
			b, _ = jsontext.AppendQuote(b, d)
		}
		b = append(b, '}')
		r.docs[i] = nil // written: the collector may take it
	}
	if r.list {
		b = append(b, "]}"...)
	}
	return b
}

// quotedLen is the length of d as a JSON string: the quotes, and an
// escape for each quote, backslash and control character (a close
// estimate with invalid UTF-8, which a signed XML has none of).
func quotedLen(d []byte) int {
	n := len(d) + 2
	for _, c := range d {
		switch {
		case c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t':
			n++
		case c < 0x20:
			n += 5 // \u00XX
		}
	}
	return n
}

// timestamper is the system policy's timestamp authority, or nil (no
// timestamp: PAdES B-B, CAdES-BES).
func timestamper(pol *policy) document.Timestamper {
	if pol.TimestampURL == "" {
		return nil
	}
	return tsa.New(pol.TimestampURL)
}

// signPdfJob signs r's PDFs, with the policy's timestamp authority.
func signPdfJob(r docRequest[pdfDoc], ts document.Timestamper, rec *logRec) Job {
	return documentJob(r.certID, "", r.description, rec, func(s document.Signer) ([]document.Prepared, error) {
		preps, err := prepareAll(r, func(d pdfDoc) (document.Prepared, error) {
			o := d.opts
			o.Timestamper = ts
			return pdf.Prepare(d.data, s, o)
		})
		if err == nil {
			// Prepared, each PDF is in its signed copy (pdf.Prepare):
			// the original is not held while the person decides and
			// the answer is written. (A job is prepared once.)
			for i := range r.docs {
				r.docs[i].data = nil
			}
		}
		return preps, err
	}, func(outs [][]byte) any {
		return docResult{key: "pdf", b64: true, list: r.list, docs: outs}
	})
}

// signXmlJob signs r's XML documents.
func signXmlJob(r docRequest[xmlDoc], rec *logRec) Job {
	return documentJob(r.certID, "", r.description, rec, func(s document.Signer) ([]document.Prepared, error) {
		return prepareAll(r, func(d xmlDoc) (document.Prepared, error) {
			p, err := xmldsig.Prepare(d.data, s, d.opts)
			if errors.Is(err, xmldsig.ErrUnsupportedKey) {
				return nil, fail(protocol.UnsupportedAlgorithm, "key type")
			}
			return p, err
		})
	}, func(outs [][]byte) any {
		return docResult{key: "xml", list: r.list, docs: outs}
	})
}

// prepareAll prepares each of r's documents; a document error names the
// document when the page gave a list.
func prepareAll[D any](r docRequest[D], prepare func(D) (document.Prepared, error)) ([]document.Prepared, error) {
	out := make([]document.Prepared, 0, len(r.docs))
	for i, d := range r.docs {
		p, err := prepare(d)
		if err != nil {
			return nil, inDocument(r.list, i, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// signCmsJob makes a detached CAdES-BES SignedData over each of j's
// hashes (the digests of the page's content), with the signing time and
// the policy's timestamp authority.
func signCmsJob(j signJob, ts document.Timestamper, rec *logRec) Job {
	return documentJob(j.certID, j.scheme, j.description, rec, func(s document.Signer) ([]document.Prepared, error) {
		h := cryptoHashes[j.hashFunc]
		out := make([]document.Prepared, 0, len(j.hashes))
		for _, d := range j.hashes {
			p, err := cms.Prepare(d, h, s, cms.Options{SigningTime: true, FileName: j.fileName, Timestamper: ts})
			if errors.Is(err, cms.ErrUnsupported) {
				return nil, fail(protocol.UnsupportedAlgorithm, fmt.Sprintf("signCms: %s with this key", j.hashFunc))
			}
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
		return out, nil
	}, func(outs [][]byte) any {
		enc := make([]string, len(outs))
		for i, o := range outs {
			enc[i] = base64.StdEncoding.EncodeToString(o)
		}
		if j.batch {
			return cmsListResult{enc}
		}
		return cmsResult{enc[0]}
	})
}

// inDocument names the document of a document error when the page gave
// a list.
func inDocument(list bool, i int, err error) error {
	var de *document.Error
	if list && errors.As(err, &de) {
		c := *de
		c.Reason = fmt.Sprintf("documents[%d]: %s", i, de.Reason)
		return &c
	}
	return err
}

// documentJob is the Job of a document operation: prepare turns the
// documents into document.Prepared (the digests the token signs, the
// summaries the dialogs show), and result shapes the signed documents
// as the page gets them. What is signed goes into rec for the signing
// record.
func documentJob(certID string, scheme token.Scheme, description string, rec *logRec,
	prepare func(document.Signer) ([]document.Prepared, error), result func([][]byte) any) Job {
	return Job{CertID: certID, Scheme: scheme, Description: description,
		Prepare: func(_ context.Context, s Signer) (*Plan, error) {
			if s.Scheme == token.PSS {
				// The document formats sign RSA with PKCS#1 v1.5 (what
				// their verifiers all know); signCms may be asked for PSS.
				return nil, fail(protocol.UnsupportedAlgorithm, string(s.Scheme)+" for documents")
			}
			preps, err := prepare(document.Signer{Cert: s.Certificate.Cert, Chain: chainOf(s.Certificate), Time: s.Time})
			if err != nil {
				return nil, err
			}
			h, ok := tokenHash(preps[0].Hash())
			if !ok {
				return nil, fmt.Errorf("engine: a document prepared with hash %v", preps[0].Hash())
			}
			plan := &Plan{Hash: h, Digests: make([][]byte, len(preps)), Documents: make([]document.Summary, len(preps))}
			for i, p := range preps {
				if p.Hash() != preps[0].Hash() {
					return nil, fmt.Errorf("engine: documents prepared with hashes %v and %v", preps[0].Hash(), p.Hash())
				}
				plan.Digests[i], plan.Documents[i] = p.Digest(), p.Summary()
			}
			if rec.items == nil { // signCms has put its hashes there
				rec.items = make([]audit.Item, len(preps))
				for i, d := range plan.Documents {
					rec.items[i] = audit.Item{Document: d.FileName, SHA256: hex.EncodeToString(d.SHA256[:])}
				}
			}
			plan.Finish = func(ctx context.Context, sigs [][]byte) (any, error) {
				outs := make([][]byte, len(preps))
				for i, p := range preps {
					out, err := p.Finish(ctx, sigs[i])
					if err != nil {
						return nil, inDocument(len(preps) > 1, i, err)
					}
					outs[i] = out
				}
				return result(outs), nil
			}
			return plan, nil
		}}
}

// chainOf parses the CA certificates found on the token beside c, for the
// signed documents to carry; one that does not parse is left out (a
// verifier may find it elsewhere, as it does when the token has none).
func chainOf(c token.Certificate) []*x509.Certificate {
	var out []*x509.Certificate
	for _, der := range c.Chain {
		if ca, err := x509.ParseCertificate(der); err == nil {
			out = append(out, ca)
		}
	}
	return out
}

// tokenHash is the protocol's name of h.
func tokenHash(h crypto.Hash) (token.HashFunc, bool) {
	for th, ch := range cryptoHashes {
		if ch == h {
			return th, true
		}
	}
	return "", false
}
