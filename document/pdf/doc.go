package pdf

import (
	"bytes"
	"fmt"

	"kyso.vn/kyso/document"
)

// page is what signing needs of one page.
type page struct {
	index  int // 0-based
	ref    Ref
	dict   Dict
	media  [4]float64 // llx lly urx ury, normalised
	crop   [4]float64 // the visible area: CropBox within MediaBox
	rotate int        // 0, 90, 180 or 270
}

// parsed is an opened PDF: what Prepare checked and what the update needs.
type parsed struct {
	*doc
	version  string // from the header, e.g. "1.7"
	rootRef  Ref
	catalog  Dict
	pages    int
	first    *page // for an invisible signature's widget
	chosen   *page // the stamp's page (nil: none asked)
	title    string
	acroRef  *Ref // the AcroForm's object when indirect
	acroForm Dict // nil when absent
	fields   Array
	// fieldsRef is the /Fields array's object when indirect.
	fieldsRef  *Ref
	fieldNames map[string]bool // top-level field names
	signatures int             // signature fields already signed
}

func bad(format string, a ...any) error { return document.Bad(format, a...) }

// damaged wraps a structural error as BAD_DOCUMENT.
func damaged(err error) error {
	return &document.Error{Code: document.CodeBadDocument, Reason: "the PDF is damaged or truncated: " + err.Error()}
}

// open reads and checks data. wantPage is the stamp's page (1-based, -1 the
// last, 0 none).
func open(data []byte, wantPage int) (*parsed, error) {
	p := &parsed{doc: &doc{data: data}}
	head := data[:min(len(data), 1024)]
	h := bytes.Index(head, []byte("%PDF-"))
	if h < 0 {
		return nil, bad("not a PDF (no %%PDF- header)")
	}
	v := head[h+5:]
	if i := bytes.IndexFunc(v, func(r rune) bool { return (r < '0' || r > '9') && r != '.' }); i >= 0 {
		v = v[:i]
	}
	p.version = string(v)
	start, err := findStartXref(data)
	if err != nil {
		return nil, damaged(err)
	}
	if err := p.readXrefChain(start); err != nil {
		if h > 0 {
			return nil, bad("the file has %d bytes before its %%PDF- header, and its offsets do not count them: remove them (or re-save the PDF)", h)
		}
		return nil, damaged(err)
	}
	p.trailer = p.sections[0].trailer
	if _, ok := p.trailer["Encrypt"]; ok {
		return nil, bad("the PDF is encrypted (password-protected or with permissions): Kyso signs only unencrypted PDFs")
	}
	if err := p.checkOffsets(); err != nil {
		return nil, damaged(err)
	}
	root, ok := p.trailer["Root"].(Ref)
	if !ok {
		return nil, damaged(fmt.Errorf("the trailer has no /Root"))
	}
	p.rootRef = root
	cat, err := p.resolve(root)
	if err != nil {
		return nil, damaged(fmt.Errorf("the document catalog: %w", err))
	}
	if p.catalog, ok = cat.(Dict); !ok {
		return nil, damaged(fmt.Errorf("the document catalog is not a dictionary"))
	}
	if err := p.readPages(wantPage); err != nil {
		return nil, err
	}
	p.title = p.readTitle()
	if err := p.readForm(); err != nil {
		return nil, err
	}
	return p, nil
}

// findStartXref finds the last "startxref N %%EOF" of the file.
func findStartXref(data []byte) (int64, error) {
	win := data[max(0, len(data)-64<<10):]
	i := bytes.LastIndex(win, []byte("startxref"))
	if i < 0 {
		return 0, fmt.Errorf("no startxref at the end of the file")
	}
	l := &lexer{b: win, pos: i + len("startxref"), elements: new(int)}
	n, ok := l.uint()
	if !ok {
		return 0, fmt.Errorf("startxref without an offset")
	}
	for l.pos < len(win) && isWhite(win[l.pos]) {
		l.pos++
	}
	if !bytes.HasPrefix(win[l.pos:], []byte("%%EOF")) {
		return 0, fmt.Errorf("no %%%%EOF after startxref")
	}
	return n, nil
}

func rect(o Object) ([4]float64, bool) {
	a, ok := o.(Array)
	if !ok || len(a) != 4 {
		return [4]float64{}, false
	}
	var r [4]float64
	for i, x := range a {
		f, ok := num(x)
		if !ok {
			return r, false
		}
		r[i] = f
	}
	// Normalise to lower-left / upper-right.
	if r[0] > r[2] {
		r[0], r[2] = r[2], r[0]
	}
	if r[1] > r[3] {
		r[1], r[3] = r[3], r[1]
	}
	return r, r[2]-r[0] > 0 && r[3]-r[1] > 0
}

// readPages finds the page signing needs (the stamp's, or the first for
// an invisible signature's widget) and the page count. The fast way
// trusts the tree's /Count, as viewers do, and reads only the nodes on the
// way down to that page; when the counts do not add up it walks the whole
// tree (walkPages), which also refuses a tree with a missing page, a loop,
// or no page.
func (p *parsed) readPages(want int) error {
	rootRef, ok := p.catalog["Pages"].(Ref)
	if !ok {
		return bad("the PDF has no page tree")
	}
	if p.findPage(rootRef, want) {
		return nil
	}
	p.pages, p.first, p.chosen = 0, nil, nil
	return p.walkPages(rootRef, want)
}

// pageAttrs are the inheritable attributes signing uses.
type pageAttrs struct{ media, crop, rotate Object }

func (a *pageAttrs) inherit(node Dict) {
	if v, ok := node["MediaBox"]; ok {
		a.media = v
	}
	if v, ok := node["CropBox"]; ok {
		a.crop = v
	}
	if v, ok := node["Rotate"]; ok {
		a.rotate = v
	}
}

func isPagesNode(node Dict) bool {
	_, kids := node["Kids"]
	return kids && node["Type"] != Name("Page")
}

// findPage is readPages's fast way; false when the tree's counts cannot be
// trusted (or the page is not where they say).
func (p *parsed) findPage(rootRef Ref, want int) bool {
	o, err := p.resolve(rootRef)
	root, ok := o.(Dict)
	if err != nil || !ok || !isPagesNode(root) {
		return false
	}
	count, ok := root["Count"].(int64)
	if !ok || count < 1 || count > 1<<24 {
		return false
	}
	k := int64(0)
	switch {
	case want > 0:
		if int64(want) > count {
			return false // the full walk says so with certainty
		}
		k = int64(want - 1)
	case want == -1:
		k = count - 1
	case want < -1:
		return false
	}
	var attrs pageAttrs
	attrs.inherit(root)
	node := root
	visited := map[Ref]bool{rootRef: true}
	for depth := 0; depth < 64; depth++ {
		kids, err := p.resolve(node["Kids"])
		ka, ok := kids.(Array)
		if err != nil || !ok {
			return false
		}
		// Kids are read from the nearer end: the first and the last page,
		// what signing asks for, cost a few objects even in a flat tree of
		// thousands of pages. Backwards, k counts pages from the end.
		nodeCount, ok := node["Count"].(int64)
		if !ok || k >= nodeCount {
			return false
		}
		back := k >= nodeCount/2
		if back {
			k = nodeCount - 1 - k
		}
		var next Dict
		for i := range ka {
			kid := ka[i]
			if back {
				kid = ka[len(ka)-1-i]
			}
			r, ok := kid.(Ref)
			if !ok || visited[r] {
				return false
			}
			o, err := p.resolve(r)
			kd, ok := o.(Dict)
			if err != nil || !ok {
				return false
			}
			if isPagesNode(kd) {
				c, ok := kd["Count"].(int64)
				if !ok || c < 0 {
					return false
				}
				if k < c {
					visited[r] = true
					next = kd
					if back {
						k = c - 1 - k // from the start of that node again
					}
					break
				}
				k -= c
				continue
			}
			if k == 0 {
				attrs.inherit(kd)
				pg := p.makePage(pageIndex(want, count), r, kd, attrs)
				p.pages = int(count)
				if want == 0 {
					p.first = pg
				} else {
					p.chosen = pg
				}
				return true
			}
			k--
		}
		if next == nil {
			return false
		}
		attrs.inherit(next)
		node = next
	}
	return false
}

// pageIndex is the 0-based index of the page want asks for (0: the first).
func pageIndex(want int, count int64) int {
	switch {
	case want > 0:
		return want - 1
	case want == -1:
		return int(count - 1)
	}
	return 0
}

// makePage reads a page's boxes and rotation.
func (p *parsed) makePage(index int, ref Ref, node Dict, a pageAttrs) *page {
	pg := &page{index: index, ref: ref, dict: node}
	media, ok := p.box(a.media)
	if !ok {
		media = [4]float64{0, 0, 612, 792} // what readers assume (US Letter)
	}
	pg.media, pg.crop = media, media
	if c, ok := p.box(a.crop); ok {
		// The visible area is the crop box clipped to the media box.
		c = [4]float64{max(c[0], media[0]), max(c[1], media[1]), min(c[2], media[2]), min(c[3], media[3])}
		if c[2] > c[0] && c[3] > c[1] {
			pg.crop = c
		}
	}
	if r, err := p.resolve(a.rotate); err == nil {
		if n, ok := r.(int64); ok {
			pg.rotate = int(((n%360)+360)%360) / 90 * 90
		}
	}
	return pg
}

// walkPages walks the whole page tree in order: counts the pages, keeps
// the first one and the one asked for. A tree that refers to a missing
// page, loops, or has no page is refused.
func (p *parsed) walkPages(rootRef Ref, want int) error {
	type frame struct {
		ref   Ref
		attrs pageAttrs
	}
	stack := []frame{{ref: rootRef}}
	visited := map[Ref]bool{}
	var last *page
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if visited[f.ref] {
			return damaged(fmt.Errorf("the page tree loops at object %d", f.ref.Num))
		}
		visited[f.ref] = true
		o, err := p.resolve(f.ref)
		if err != nil {
			return damaged(fmt.Errorf("the page tree: %w", err))
		}
		node, ok := o.(Dict)
		if !ok {
			return bad("page %d is missing (object %d is not a page)", p.pages+1, f.ref.Num)
		}
		f.attrs.inherit(node)
		if isPagesNode(node) {
			kidsO, err := p.resolve(node["Kids"])
			if err != nil {
				return damaged(fmt.Errorf("the page tree: %w", err))
			}
			ka, ok := kidsO.(Array)
			if !ok {
				return damaged(fmt.Errorf("the page tree node %d has no /Kids array", f.ref.Num))
			}
			for i := len(ka) - 1; i >= 0; i-- {
				r, ok := ka[i].(Ref)
				if !ok {
					return damaged(fmt.Errorf("the page tree node %d has a kid that is not a reference", f.ref.Num))
				}
				stack = append(stack, frame{ref: r, attrs: f.attrs})
			}
			continue
		}
		p.pages++
		if p.first == nil || (want > 0 && p.pages == want) || want == -1 {
			pg := p.makePage(p.pages-1, f.ref, node, f.attrs)
			if p.first == nil {
				p.first = pg
			}
			if want > 0 && p.pages == want {
				p.chosen = pg
			}
			last = pg
		}
	}
	if p.pages == 0 {
		return bad("the PDF has no pages")
	}
	switch {
	case want == -1:
		p.chosen = last
	case want > 0 && p.chosen == nil:
		return bad("page %d does not exist: the PDF has %d page(s)", want, p.pages)
	case want < -1:
		return bad("page %d does not exist: pages count from 1, or -1 for the last", want)
	}
	return nil
}

func (p *parsed) box(o Object) ([4]float64, bool) {
	o, err := p.resolve(o)
	if err != nil {
		return [4]float64{}, false
	}
	a, ok := o.(Array)
	if !ok {
		return [4]float64{}, false
	}
	// Box elements may themselves be references.
	b := make(Array, len(a))
	for i, x := range a {
		if b[i], err = p.resolve(x); err != nil {
			return [4]float64{}, false
		}
	}
	return rect(b)
}

// readTitle is the Info dictionary's /Title, as text ("" if none).
func (p *parsed) readTitle() string {
	info, err := p.resolve(p.trailer["Info"])
	if err != nil {
		return ""
	}
	d, ok := info.(Dict)
	if !ok {
		return ""
	}
	t, err := p.resolve(d["Title"])
	if err != nil {
		return ""
	}
	s, ok := t.(String)
	if !ok {
		return ""
	}
	return clipText(decodeText(s), maxTitle)
}

// maxTitle bounds the title a dialog shows (in characters).
const maxTitle = 300

// clipText cuts s to n characters, marking the cut with "…".
func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// readForm reads the interactive form: where /AcroForm and /Fields are,
// the top-level field names, how many signatures exist, and whether a
// certification (DocMDP) or a field lock forbids another signature.
func (p *parsed) readForm() error {
	p.fieldNames = map[string]bool{}
	if err := p.checkDocMDP(); err != nil {
		return err
	}
	af, ok := p.catalog["AcroForm"]
	if !ok {
		return nil
	}
	if r, isRef := af.(Ref); isRef {
		p.acroRef = &r
	}
	o, err := p.resolve(af)
	if err != nil {
		return damaged(fmt.Errorf("the interactive form: %w", err))
	}
	if p.acroForm, ok = o.(Dict); !ok {
		// An /AcroForm that is not a dictionary (null): as if absent.
		p.acroRef, p.acroForm = nil, nil
		return nil
	}
	fields := p.acroForm["Fields"]
	if r, isRef := fields.(Ref); isRef {
		p.fieldsRef = &r
	}
	fo, err := p.resolve(fields)
	if err != nil {
		return damaged(fmt.Errorf("the form fields: %w", err))
	}
	p.fields, _ = fo.(Array)
	if p.fields == nil {
		p.fieldsRef = nil
	}
	// Walk the field tree: names at the top, signatures anywhere.
	type item struct {
		o     Object
		ft    Object
		depth int
	}
	var stack []item
	for i := len(p.fields) - 1; i >= 0; i-- {
		stack = append(stack, item{o: p.fields[i]})
	}
	visited := map[Ref]bool{}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if r, ok := it.o.(Ref); ok {
			if visited[r] {
				continue
			}
			visited[r] = true
		}
		o, err := p.resolve(it.o)
		if err != nil {
			return damaged(fmt.Errorf("a form field: %w", err))
		}
		f, ok := o.(Dict)
		if !ok || it.depth > 64 {
			continue
		}
		if it.depth == 0 {
			if t, err := p.resolve(f["T"]); err == nil {
				if s, ok := t.(String); ok {
					p.fieldNames[decodeText(s)] = true
				}
			}
		}
		ft := it.ft
		if v, ok := f["FT"]; ok {
			ft = v
		}
		if ft == Name("Sig") {
			if err := p.checkSignatureField(f); err != nil {
				return err
			}
		}
		if kids, err := p.resolve(f["Kids"]); err == nil {
			if ka, ok := kids.(Array); ok {
				for i := len(ka) - 1; i >= 0; i-- {
					stack = append(stack, item{o: ka[i], ft: ft, depth: it.depth + 1})
				}
			}
		}
	}
	return nil
}

// checkDocMDP refuses a certified document whose permissions forbid
// adding a signature (see docMDPAllows).
func (p *parsed) checkDocMDP() error {
	perms, err := p.resolve(p.catalog["Perms"])
	if err != nil {
		return damaged(fmt.Errorf("the /Perms dictionary: %w", err))
	}
	pd, ok := perms.(Dict)
	if !ok {
		return nil
	}
	sig, err := p.resolve(pd["DocMDP"])
	if err != nil {
		return damaged(fmt.Errorf("the certification signature: %w", err))
	}
	sd, ok := sig.(Dict)
	if !ok {
		return nil
	}
	return p.checkSigReferences(sd, "certified")
}

// checkSignatureField counts a signed field and applies its /Lock (PDF
// 2.0: a lock's /P restricts later changes as DocMDP does) and any DocMDP
// reference in its value.
func (p *parsed) checkSignatureField(f Dict) error {
	v, err := p.resolve(f["V"])
	if err != nil {
		return damaged(fmt.Errorf("a signature: %w", err))
	}
	sd, ok := v.(Dict)
	if !ok {
		return nil // an empty signature field
	}
	p.signatures++
	if err := p.checkSigReferences(sd, "certified"); err != nil {
		return err
	}
	lock, err := p.resolve(f["Lock"])
	if err != nil {
		return nil
	}
	if ld, ok := lock.(Dict); ok {
		if perm, ok := ld["P"].(int64); ok {
			return docMDPAllows(perm, "locked by an earlier signature")
		}
	}
	return nil
}

// checkSigReferences looks for a DocMDP transform in a signature
// dictionary's /Reference array.
func (p *parsed) checkSigReferences(sd Dict, what string) error {
	refs, err := p.resolve(sd["Reference"])
	if err != nil {
		return nil
	}
	ra, _ := refs.(Array)
	for _, x := range ra {
		r, err := p.resolve(x)
		if err != nil {
			continue
		}
		rd, ok := r.(Dict)
		if !ok || rd["TransformMethod"] != Name("DocMDP") {
			continue
		}
		perm := int64(2) // ISO 32000-1 Table 254: P defaults to 2
		if tp, err := p.resolve(rd["TransformParams"]); err == nil {
			if tpd, ok := tp.(Dict); ok {
				if v, ok := tpd["P"].(int64); ok {
					perm = v
				}
			}
		}
		if err := docMDPAllows(perm, what); err != nil {
			return err
		}
	}
	return nil
}

// docMDPAllows applies ISO 32000-1 §12.8.2.2 (Table 254) to a new
// signature in a new field: P=1 allows no change at all; P=2 allows
// filling in forms, instantiating templates and signing the signature
// fields that exist, but a new signature field is a new annotation, which
// only P=3 allows (Acrobat reports it as a disallowed change and the
// certification as broken). So only P=3 lets Kyso add its signature.
func docMDPAllows(perm int64, what string) error {
	switch perm {
	case 1:
		return bad("the PDF is %s with no changes allowed (DocMDP P=1): another signature would invalidate it", what)
	case 2:
		return bad("the PDF is %s allowing only form filling and signing existing fields (DocMDP P=2): a new signature field would invalidate it", what)
	}
	return nil
}
