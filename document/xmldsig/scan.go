package xmldsig

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"kyso.vn/kyso/document"
)

// Limits on what Prepare parses. Hostile input past them is BAD_DOCUMENT,
// never unbounded memory: the whole document is at most MaxSize, one tag
// (start or end, attributes included) at most MaxTagBytes, so the
// attributes encoding/xml collects for one element stay small.
const (
	MaxSize     = 64 << 20 // the engine's limit for a document request
	MaxDepth    = 256      // element nesting
	MaxAttrs    = 256      // attributes (namespace declarations included) on one element
	MaxNameLen  = 512      // bytes of one element or attribute name, prefix included
	MaxTagBytes = 1 << 20  // bytes of one start or end tag
)

const (
	nsXML   = "http://www.w3.org/XML/1998/namespace"
	nsXMLNS = "http://www.w3.org/2000/xmlns/"
	nsDSig  = "http://www.w3.org/2000/09/xmldsig#"
)

// attr is one attribute of an element, its value normalised as XML 1.0
// §3.3.3 says (encoding/xml leaves literal tabs and line breaks in values,
// which canonical XML would then write as &#x9;/&#xA; where every other
// parser writes a space).
type attr struct {
	prefix, local string
	value         string
	uri           string // namespace name; "" for unprefixed attributes
}

func (a attr) qname() string { return qname(a.prefix, a.local) }

func qname(prefix, local string) string {
	if prefix == "" {
		return local
	}
	return prefix + ":" + local
}

// frame is one open element.
type frame struct {
	prefix, local string
	uri           string
	nsPushed      []string // prefixes this element declared (popped at its end)
	xmlPushed     int      // xml:* attributes it pushed
	ids           []string // values of its attributes named id in any case
	onPath        bool     // it and its ancestors match the parent path's steps
}

// attrName is an attribute's name as written (prefix) or expanded (uri).
type attrName struct {
	space, local string
	expanded     bool
}

// nsBinding is one in-scope namespace, prefix "" being the default one.
type nsBinding struct{ prefix, uri string }

// scanner walks XML tokens once: it checks well-formedness and Kyso's
// limits, keeps the namespace scope, and writes the canonical form (C14N
// 1.0, no comments) of one subtree, or of the whole document, to out.
// Hooks let Prepare find the reference and the parent and read the summary
// in the same pass.
type scanner struct {
	data []byte // the bytes walked; offsets below are into data
	out  *bufio.Writer

	// wholeDoc: canonicalise the whole document (URI=""): top-level
	// processing instructions too.
	wholeDoc bool
	// startCapture decides, for each element until one is captured,
	// whether its subtree is the one to canonicalise (called after onStart,
	// with the element's namespaces in scope).
	startCapture func(s *scanner, f *frame, attrs []attr) bool
	// onStart/onEnd/onText observe every element (depth counts from 1).
	onStart func(s *scanner, f *frame, attrs []attr, off, end int) error
	onEnd   func(s *scanner, f *frame, off int)
	onText  func(s *scanner, text []byte)

	ns      map[string][]string // prefix → stack of namespace names
	xmlAttr []attr              // xml:* attributes in scope, innermost last
	stack   []frame

	attrBuf []attr   // reused for each element's attributes
	valBuf  []string // reused for their values

	capDepth  int  // depth of the captured subtree's apex; 0: not capturing
	captured  bool // the captured subtree has been written
	rootSeen  bool
	rootEnded bool
}

// bad makes the BAD_DOCUMENT error of a parse.
func bad(format string, a ...any) error { return document.Bad(format, a...) }

var errTagTooLong = errors.New("tag too long")

// guardReader feeds encoding/xml one byte at a time (it then reads no
// further than asked, so InputOffset is exact) and stops a start or end tag
// longer than MaxTagBytes before encoding/xml collects its attributes.
type guardReader struct {
	data     []byte
	pos      int
	tagStart int // offset of the '<' of the tag being read, or -1
}

func (r *guardReader) ReadByte() (byte, error) {
	if r.pos >= len(r.data) {
		return 0, io.EOF
	}
	if r.tagStart >= 0 && r.pos-r.tagStart > MaxTagBytes {
		return 0, errTagTooLong
	}
	b := r.data[r.pos]
	r.pos++
	return b, nil
}

func (r *guardReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	b, err := r.ReadByte()
	if err != nil {
		return 0, err
	}
	p[0] = b
	return 1, nil
}

// markToken tells the reader where the next token starts.
func (r *guardReader) markToken() {
	r.tagStart = -1
	if r.pos+1 < len(r.data) && r.data[r.pos] == '<' {
		if c := r.data[r.pos+1]; c != '!' && c != '?' {
			r.tagStart = r.pos
		}
	}
}

func (s *scanner) depth() int { return len(s.stack) }

// lookup is the namespace name bound to prefix, and whether it is bound.
func (s *scanner) lookup(prefix string) (string, bool) {
	if prefix == "xml" {
		return nsXML, true
	}
	st := s.ns[prefix]
	if len(st) == 0 {
		return "", prefix == ""
	}
	return st[len(st)-1], true
}

// inScope is every namespace in scope (the default one only when not
// empty), sorted as canonical XML writes them, "xml" left out.
func (s *scanner) inScope() []nsBinding {
	var out []nsBinding
	for p, st := range s.ns {
		if len(st) == 0 || p == "xml" {
			continue
		}
		if u := st[len(st)-1]; u != "" || p != "" {
			out = append(out, nsBinding{p, u})
		}
	}
	slices.SortFunc(out, func(a, b nsBinding) int { return strings.Compare(a.prefix, b.prefix) })
	return out
}

// xmlInScope is the innermost value of each xml:* attribute in scope.
func (s *scanner) xmlInScope() []attr {
	var out []attr
	seen := map[string]bool{}
	for i := len(s.xmlAttr) - 1; i >= 0; i-- {
		if a := s.xmlAttr[i]; !seen[a.local] {
			seen[a.local] = true
			out = append(out, a)
		}
	}
	return out
}

// run walks data. base is where data sits in the document (for offsets
// handed to hooks); ctx, when not nil, is the scope data is placed in (a
// fragment: the Signature Kyso builds, inside its parent).
func (s *scanner) run(ctx *scope) error {
	s.ns = map[string][]string{}
	if ctx != nil {
		for _, b := range ctx.ns {
			s.ns[b.prefix] = []string{b.uri}
		}
		s.xmlAttr = slices.Clone(ctx.xml)
	}
	r := &guardReader{data: s.data, tagStart: -1}
	d := xml.NewDecoder(r)
	d.Strict = true // no entities but XML's five; CharsetReader nil: only UTF-8
	first := true
	for {
		r.markToken()
		off := int(d.InputOffset())
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if errors.Is(err, errTagTooLong) {
			return bad("a tag is longer than %d bytes", MaxTagBytes)
		}
		if err != nil {
			if strings.Contains(err.Error(), "CharsetReader") {
				// encoding/xml: `encoding "X" declared but Decoder.CharsetReader is nil`
				return bad("only UTF-8 XML is accepted: %s", strings.TrimSuffix(err.Error(), " but Decoder.CharsetReader is nil"))
			}
			return bad("not well-formed XML: %v", err)
		}
		end := int(d.InputOffset())
		switch t := tok.(type) {
		case xml.StartElement:
			err = s.start(t, off, end)
		case xml.EndElement:
			err = s.end(t, off)
		case xml.CharData:
			err = s.text(t, off, end)
		case xml.Comment:
			err = checkChars(t, "comment")
		case xml.ProcInst:
			err = s.procInst(t, off, first)
		case xml.Directive:
			// <!DOCTYPE …> (and so any DTD, entity, external subset) is
			// refused outright: nothing in an e-invoice or a tax filing
			// needs one, and refusing is the only safe way with
			// XXE and entity expansion.
			return bad("a DOCTYPE or other <!…> declaration is not accepted (no DTD processing)")
		}
		if err != nil {
			return err
		}
		first = false
	}
	if len(s.stack) > 0 {
		return bad("not well-formed XML: element <%s> is not closed", qname(s.stack[len(s.stack)-1].prefix, s.stack[len(s.stack)-1].local))
	}
	if !s.rootSeen {
		return bad("no root element")
	}
	return nil
}

func (s *scanner) start(t xml.StartElement, off, end int) error {
	if s.rootEnded || (s.depth() == 0 && s.rootSeen) {
		return bad("more than one root element")
	}
	if s.depth() >= MaxDepth {
		return bad("elements nested deeper than %d", MaxDepth)
	}
	if len(t.Attr) > MaxAttrs {
		return bad("more than %d attributes on one element", MaxAttrs)
	}
	if err := checkName(t.Name); err != nil {
		return err
	}
	if t.Name.Space == "xmlns" {
		return bad("element <%s> uses the reserved prefix xmlns", qname(t.Name.Space, t.Name.Local))
	}
	values, err := attrValues(t, s.data[off:end], s.valBuf[:0])
	if err != nil {
		return err
	}
	s.valBuf = values
	f := frame{prefix: t.Name.Space, local: t.Name.Local}
	var decls []nsBinding
	attrs := s.attrBuf[:0]
	defer func() { s.attrBuf = attrs[:0] }()
	for i, a := range t.Attr {
		if err := checkName(a.Name); err != nil {
			return err
		}
		v := values[i]
		switch {
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			decls = append(decls, nsBinding{"", v})
		case a.Name.Space == "xmlns":
			decls = append(decls, nsBinding{a.Name.Local, v})
		default:
			attrs = append(attrs, attr{prefix: a.Name.Space, local: a.Name.Local, value: v})
		}
	}
	for i, d := range decls {
		if err := checkDecl(d); err != nil {
			return err
		}
		for _, e := range decls[:i] {
			if e.prefix == d.prefix {
				return bad("namespace %q declared twice on <%s>", d.prefix, qname(f.prefix, f.local))
			}
		}
	}
	// Parent's scope, for rendering only the declarations that change it.
	var parentNS []string
	if s.capDepth > 0 {
		parentNS = make([]string, len(decls))
		for i, d := range decls {
			parentNS[i], _ = s.lookup(d.prefix)
		}
	}
	for _, d := range decls {
		s.ns[d.prefix] = append(s.ns[d.prefix], d.uri)
		f.nsPushed = append(f.nsPushed, d.prefix)
	}
	s.stack = append(s.stack, f) // popped by end; pushed now so errors below leave the scope consistent
	fp := &s.stack[len(s.stack)-1]
	var ok bool
	if fp.uri, ok = s.lookup(fp.prefix); !ok {
		return bad("prefix %q of <%s> is not declared", fp.prefix, qname(fp.prefix, fp.local))
	}
	var names map[attrName]bool // for many attributes; a few are compared pairwise
	if len(attrs) > 8 {
		names = make(map[attrName]bool, 2*len(attrs))
	}
	for i := range attrs {
		a := &attrs[i]
		if a.prefix != "" {
			if a.uri, ok = s.lookup(a.prefix); !ok {
				return bad("prefix %q of attribute %s is not declared", a.prefix, a.qname())
			}
		}
		// The same name twice, or two prefixes of one namespace with one local name.
		dup := false
		if names != nil {
			q, e := attrName{a.prefix, a.local, false}, attrName{a.uri, a.local, true}
			dup = names[q] || (a.prefix != "" && names[e])
			names[q] = true
			if a.prefix != "" {
				names[e] = true
			}
		} else {
			for _, b := range attrs[:i] {
				dup = dup || b.local == a.local && (b.prefix == a.prefix || (b.prefix != "" && a.prefix != "" && b.uri == a.uri))
			}
		}
		if dup {
			return bad("attribute %s given twice on <%s>", a.qname(), qname(fp.prefix, fp.local))
		}
		if a.prefix == "xml" {
			s.xmlAttr = append(s.xmlAttr, *a)
			fp.xmlPushed++
		}
		if a.prefix == "" && strings.EqualFold(a.local, "id") {
			fp.ids = append(fp.ids, a.value)
		}
	}
	if s.depth() == 1 {
		s.rootSeen = true
		fp.onPath = true
	} else {
		fp.onPath = s.stack[len(s.stack)-2].onPath
	}
	if s.onStart != nil {
		if err := s.onStart(s, fp, attrs, off, end); err != nil {
			return err
		}
	}
	if s.capDepth == 0 && !s.captured && s.startCapture != nil && s.startCapture(s, fp, attrs) {
		s.capDepth = s.depth()
	}
	if s.capDepth > 0 {
		if s.depth() == s.capDepth {
			s.writeStart(fp, s.inScope(), attrs, s.xmlInScope())
		} else {
			var render []nsBinding
			for i, d := range decls {
				if d.uri != parentNS[i] {
					render = append(render, d)
				}
			}
			slices.SortFunc(render, func(a, b nsBinding) int { return strings.Compare(a.prefix, b.prefix) })
			s.writeStart(fp, render, attrs, nil)
		}
	}
	return nil
}

func (s *scanner) end(t xml.EndElement, off int) error {
	if s.depth() == 0 {
		return bad("not well-formed XML: end tag </%s> without a start", qname(t.Name.Space, t.Name.Local))
	}
	f := &s.stack[len(s.stack)-1]
	if f.prefix != t.Name.Space || f.local != t.Name.Local {
		return bad("not well-formed XML: <%s> closed by </%s>", qname(f.prefix, f.local), qname(t.Name.Space, t.Name.Local))
	}
	if s.onEnd != nil {
		s.onEnd(s, f, off)
	}
	if s.capDepth > 0 {
		s.out.WriteString("</")
		s.out.WriteString(qname(f.prefix, f.local))
		s.out.WriteByte('>')
		if s.depth() == s.capDepth {
			s.capDepth = 0
			s.captured = true
		}
	}
	for _, p := range f.nsPushed {
		st := s.ns[p]
		s.ns[p] = st[:len(st)-1]
	}
	s.xmlAttr = s.xmlAttr[:len(s.xmlAttr)-f.xmlPushed]
	s.stack = s.stack[:len(s.stack)-1]
	if len(s.stack) == 0 {
		s.rootEnded = true
	}
	return nil
}

func (s *scanner) text(t xml.CharData, off, end int) error {
	if s.depth() == 0 {
		if len(bytes.Trim(t, " \t\r\n")) > 0 {
			return bad("text outside the root element")
		}
		return nil
	}
	if s.onText != nil {
		s.onText(s, t)
	}
	if s.capDepth > 0 {
		escapeText(s.out, t)
	}
	return nil
}

func (s *scanner) procInst(t xml.ProcInst, off int, first bool) error {
	if strings.EqualFold(t.Target, "xml") {
		if t.Target == "xml" && first && off == 0 {
			return nil // the XML declaration; encoding/xml checked version and encoding
		}
		return bad("an XML declaration is only allowed at the very start")
	}
	if err := checkChars(t.Inst, "processing instruction"); err != nil {
		return err
	}
	if s.capDepth == 0 && !(s.wholeDoc && s.depth() == 0) {
		return nil
	}
	// Canonical XML: the data after the whitespace that follows the
	// target, line ends normalised (encoding/xml keeps them raw here).
	data := bytes.TrimLeft(t.Inst, " \t\r\n")
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	data = bytes.ReplaceAll(data, []byte("\r"), []byte("\n"))
	if s.depth() == 0 && s.rootSeen {
		s.out.WriteByte('\n')
	}
	s.out.WriteString("<?")
	s.out.WriteString(t.Target)
	if len(data) > 0 {
		s.out.WriteByte(' ')
		s.out.Write(data)
	}
	s.out.WriteString("?>")
	if s.depth() == 0 && !s.rootSeen {
		s.out.WriteByte('\n')
	}
	return nil
}

// writeStart writes a start tag in canonical form: namespace declarations
// (default first, then by prefix), then attributes sorted by namespace
// name and local name; inherit are xml:* attributes of ancestors outside
// the captured subtree (C14N 1.0 copies them onto the apex).
func (s *scanner) writeStart(f *frame, ns []nsBinding, attrs []attr, inherit []attr) {
	w := s.out
	w.WriteByte('<')
	w.WriteString(qname(f.prefix, f.local))
	for _, b := range ns {
		if b.prefix == "" {
			w.WriteString(` xmlns="`)
		} else {
			w.WriteString(" xmlns:")
			w.WriteString(b.prefix)
			w.WriteString(`="`)
		}
		escapeAttr(w, b.uri)
		w.WriteByte('"')
	}
	all := attrs
	if len(inherit) > 0 {
		all = slices.Clone(attrs)
		for _, a := range inherit {
			if !slices.ContainsFunc(attrs, func(b attr) bool { return b.prefix == "xml" && b.local == a.local }) {
				all = append(all, a)
			}
		}
	} else if len(attrs) > 1 {
		all = slices.Clone(attrs)
	}
	slices.SortFunc(all, func(a, b attr) int {
		if c := strings.Compare(a.uri, b.uri); c != 0 {
			return c
		}
		return strings.Compare(a.local, b.local)
	})
	for _, a := range all {
		w.WriteByte(' ')
		w.WriteString(a.qname())
		w.WriteString(`="`)
		escapeAttr(w, a.value)
		w.WriteByte('"')
	}
	w.WriteByte('>')
}

// conflictingXMLAttr names an xml:* attribute that the apex of a
// canonicalisation would inherit and that its ancestors set to different
// values ("" if none). C14N 1.0 copies in the nearest ancestor's value
// (xmlsec1, Kyso); Java's XML Signature copies the outermost one, so the
// two disagree on such a document. own is how many of the innermost
// entries of the xml:* stack are the apex's own attributes.
func (s *scanner) conflictingXMLAttr(own int) string {
	anc := s.xmlAttr[:len(s.xmlAttr)-own]
	first := map[string]string{}
	for _, a := range s.xmlAttr[len(anc):] {
		first[a.local] = a.value // the apex's own hide the ancestors'
	}
	nearest := map[string]string{}
	for i := len(anc) - 1; i >= 0; i-- {
		a := anc[i]
		if _, hidden := first[a.local]; hidden {
			continue
		}
		if v, ok := nearest[a.local]; !ok {
			nearest[a.local] = a.value
		} else if v != a.value {
			return "xml:" + a.local
		}
	}
	return ""
}

// scope is the namespace and xml:* context of an element, to place a
// fragment into.
type scope struct {
	ns  []nsBinding
	xml []attr
}

func (s *scanner) scope() *scope {
	sc := &scope{xml: s.xmlInScope()}
	for p, st := range s.ns {
		if len(st) > 0 {
			sc.ns = append(sc.ns, nsBinding{p, st[len(st)-1]})
		}
	}
	return sc
}

func checkName(n xml.Name) error {
	if len(n.Space)+len(n.Local)+1 > MaxNameLen {
		return bad("a name is longer than %d bytes", MaxNameLen)
	}
	// encoding/xml leaves "a:b:c" and ":a" whole in Local.
	if strings.Contains(n.Local, ":") || n.Local == "" {
		return bad("name %q is not a valid namespaced name", qname(n.Space, n.Local))
	}
	if strings.EqualFold(n.Space, "xmlns") && n.Space != "xmlns" {
		return bad("name %q uses a reserved prefix", qname(n.Space, n.Local))
	}
	return nil
}

func checkDecl(d nsBinding) error {
	switch {
	case d.prefix == "xmlns":
		return bad("the prefix xmlns cannot be declared")
	case d.prefix == "xml" && d.uri != nsXML, d.prefix != "xml" && d.uri == nsXML:
		return bad("the prefix xml and its namespace %s go only together", nsXML)
	case d.uri == nsXMLNS:
		return bad("namespace %s cannot be declared", nsXMLNS)
	case d.prefix != "" && d.uri == "":
		return bad("prefix %q is undeclared with an empty namespace (XML 1.1 only)", d.prefix)
	case d.uri != "" && !hasScheme(d.uri):
		// Canonical XML 1.0 is undefined for relative namespace names and
		// xmlsec1 (libxml2) refuses them: a signature over one would not
		// verify.
		return bad("namespace %q is a relative URI", d.uri)
	}
	return nil
}

// hasScheme reports whether u starts with an RFC 3986 scheme and ':'.
func hasScheme(u string) bool {
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return true
		default:
			return false
		}
	}
	return false
}

// checkChars checks text encoding/xml does not: comments and processing
// instructions must be UTF-8 of XML characters.
func checkChars(b []byte, what string) error {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			return bad("invalid UTF-8 in a %s", what)
		}
		if !isXMLChar(r) {
			return bad("character U+%04X not allowed in a %s", r, what)
		}
		b = b[n:]
	}
	return nil
}

func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// attrValues returns the values of t's attributes normalised as XML 1.0
// §3.3.3 says: each literal tab, line feed or carriage return (a CR LF
// pair counting once) becomes a space, while characters written as
// references stay. encoding/xml keeps literal whitespace, so when the raw
// tag has any, the values are read again from the raw bytes.
func attrValues(t xml.StartElement, raw []byte, vals []string) ([]string, error) {
	if bytes.IndexAny(raw, "\t\r\n") < 0 {
		for _, a := range t.Attr {
			vals = append(vals, a.Value)
		}
		return vals, nil
	}
	vals = append(vals, make([]string, len(t.Attr))...)
	i := 1
	skipName := func() {
		for i < len(raw) && !isSpace(raw[i]) && raw[i] != '=' && raw[i] != '>' && raw[i] != '/' {
			i++
		}
	}
	skipSpace := func() {
		for i < len(raw) && isSpace(raw[i]) {
			i++
		}
	}
	skipName() // the element name
	for n := 0; n < len(t.Attr); n++ {
		skipSpace()
		skipName()
		skipSpace()
		if i >= len(raw) || raw[i] != '=' {
			return nil, bad("not well-formed XML: attribute without a value")
		}
		i++
		skipSpace()
		if i >= len(raw) || (raw[i] != '"' && raw[i] != '\'') {
			return nil, bad("not well-formed XML: attribute value not quoted")
		}
		q := raw[i]
		j := bytes.IndexByte(raw[i+1:], q)
		if j < 0 {
			return nil, bad("not well-formed XML: attribute value not closed")
		}
		v, err := normaliseAttr(raw[i+1 : i+1+j])
		if err != nil {
			return nil, err
		}
		vals[n] = v
		i += j + 2
	}
	return vals, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func normaliseAttr(v []byte) (string, error) {
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch c {
		case '\r':
			if i+1 < len(v) && v[i+1] == '\n' {
				i++
			}
			b.WriteByte(' ')
		case '\n', '\t':
			b.WriteByte(' ')
		case '&':
			j := bytes.IndexByte(v[i:], ';')
			if j < 0 {
				return "", bad("not well-formed XML: bad reference in an attribute value")
			}
			r, ok := resolveRef(string(v[i+1 : i+j]))
			if !ok {
				return "", bad("not well-formed XML: bad reference in an attribute value")
			}
			b.WriteRune(r)
			i += j
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// resolveRef resolves the body of &…; (encoding/xml already accepted it).
func resolveRef(name string) (rune, bool) {
	switch name {
	case "lt":
		return '<', true
	case "gt":
		return '>', true
	case "amp":
		return '&', true
	case "apos":
		return '\'', true
	case "quot":
		return '"', true
	}
	var n uint64
	var err error
	switch {
	case strings.HasPrefix(name, "#x"):
		n, err = strconv.ParseUint(name[2:], 16, 32)
	case strings.HasPrefix(name, "#"):
		n, err = strconv.ParseUint(name[1:], 10, 32)
	default:
		return 0, false
	}
	return rune(n), err == nil && isXMLChar(rune(n))
}

// Escapes of canonical XML, by byte: in text, and in attribute values.
var (
	textEsc = [256]string{'&': "&amp;", '<': "&lt;", '>': "&gt;", '\r': "&#xD;"}
	attrEsc = [256]string{'&': "&amp;", '<': "&lt;", '"': "&quot;", '\t': "&#x9;", '\n': "&#xA;", '\r': "&#xD;"}
)

// escapeText writes character data as canonical XML does.
func escapeText(w *bufio.Writer, t []byte) {
	last := 0
	for i, c := range t {
		if e := textEsc[c]; e != "" {
			w.Write(t[last:i])
			w.WriteString(e)
			last = i + 1
		}
	}
	w.Write(t[last:])
}

// escapeAttr writes an attribute value as canonical XML does.
func escapeAttr(w *bufio.Writer, v string) {
	last := 0
	for i := 0; i < len(v); i++ {
		if e := attrEsc[v[i]]; e != "" {
			w.WriteString(v[last:i])
			w.WriteString(e)
			last = i + 1
		}
	}
	w.WriteString(v[last:])
}
