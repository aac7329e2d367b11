package pdf

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
)

// doc is a PDF being read: the bytes (never modified), the cross-reference
// sections, and caches bounded in size.
type doc struct {
	data     []byte
	sections []*section
	trailer  Dict // the newest trailer
	elements int  // lexer budget, see maxElements
	decoded  int  // bytes of decoded streams held, see maxDecoded
	objStms  map[int64]*objStm
	lookups  map[int64]entry
	resolves int           // resolve calls, see maxResolves
	nesting  int           // objects being read inside the reading of another (a stream's /Length)
	zr, fr   io.ReadCloser // reused decompressors
}

const (
	// maxDecoded bounds the decoded stream bytes (object and xref streams)
	// one document may hold.
	maxDecoded = 128 << 20
	// maxStreamRatio bounds a stream's expansion: Flate reaches ~1000:1 on
	// pathological data; real object and xref streams stay far below 200.
	maxStreamRatio = 200
	// maxResolves bounds the indirect objects one document may make us
	// read (page trees, field trees), whatever their shape.
	maxResolves = 4 << 20
)

func (d *doc) lexer(pos int) *lexer { return &lexer{b: d.data, pos: pos, elements: &d.elements} }

// objStm is a decoded object stream: its data and where each object starts.
type objStm struct {
	data []byte
	nums []int64
	offs []int
}

// objectAt parses "num gen obj <object> [stream … endstream]" at off. If
// want >= 0 the object number must be want.
func (d *doc) objectAt(off int64, want int64) (Object, int64, error) {
	if off < 0 || off >= int64(len(d.data)) {
		return nil, 0, fmt.Errorf("offset %d outside the file", off)
	}
	l := d.lexer(int(off))
	n, ok1 := l.uint()
	g, ok2 := l.uint()
	if !ok1 || !ok2 || l.keyword() != "obj" {
		return nil, 0, fmt.Errorf("no object at byte %d", off)
	}
	if want >= 0 && n != want {
		return nil, 0, fmt.Errorf("object %d expected at byte %d, found %d", want, off, n)
	}
	o, err := l.object(0)
	if err != nil {
		return nil, 0, fmt.Errorf("object %d: %w", n, err)
	}
	dict, isDict := o.(Dict)
	save := l.pos
	if isDict && l.keyword() == "stream" {
		raw, err := d.streamData(l, dict, n)
		if err != nil {
			return nil, 0, err
		}
		return &Stream{Dict: dict, Raw: raw}, g, nil
	}
	l.pos = save
	return o, g, nil
}

// streamData finds a stream's raw bytes after the "stream" keyword: /Length
// of them when "endstream" follows, else up to the next "endstream".
func (d *doc) streamData(l *lexer, dict Dict, num int64) ([]byte, error) {
	// The keyword is followed by CRLF or LF (a lone CR happens too).
	p := l.pos
	if p < len(d.data) && d.data[p] == '\r' {
		p++
	}
	if p < len(d.data) && d.data[p] == '\n' {
		p++
	}
	length := int64(-1)
	switch v := dict["Length"].(type) {
	case int64:
		length = v
	case Ref:
		if o, err := d.resolve(v); err == nil {
			if n, ok := o.(int64); ok {
				length = n
			}
		}
	}
	if length >= 0 && int64(p)+length <= int64(len(d.data)) {
		end := p + int(length)
		m := d.lexer(end)
		if m.keyword() == "endstream" {
			return d.data[p:end:end], nil
		}
	}
	// /Length missing or wrong: the data ends before "endstream".
	i := bytes.Index(d.data[p:], []byte("endstream"))
	if i < 0 {
		return nil, fmt.Errorf("object %d: stream without endstream", num)
	}
	end := p + i
	// The end of line before endstream is not data.
	if end > p && d.data[end-1] == '\n' {
		end--
	}
	if end > p && d.data[end-1] == '\r' {
		end--
	}
	return d.data[p:end:end], nil
}

// resolve returns the object r refers to (null for a free or missing one,
// as ISO 32000 says), or o itself when it is not a Ref.
func (d *doc) resolve(o Object) (Object, error) {
	for depth := 0; depth < 16; depth++ {
		r, ok := o.(Ref)
		if !ok {
			return o, nil
		}
		d.resolves++
		if d.resolves > maxResolves {
			return nil, fmt.Errorf("more than %d indirect objects read", maxResolves)
		}
		var err error
		o, err = d.object(r)
		if err != nil {
			return nil, err
		}
	}
	return nil, errors.New("references chained too deep")
}

// object reads indirect object r.
func (d *doc) object(r Ref) (Object, error) {
	d.nesting++
	defer func() { d.nesting-- }()
	if d.nesting > 8 {
		return nil, errors.New("objects refer to each other to read themselves")
	}
	e := d.lookup(int64(r.Num))
	switch e.typ {
	case entryInUse:
		if e.b != int64(r.Gen) {
			return nil, nil // another generation: the reference is to a deleted object
		}
		o, _, err := d.objectAt(e.a, int64(r.Num))
		return o, err
	case entryCompressed:
		if r.Gen != 0 {
			return nil, nil
		}
		return d.compressed(int64(r.Num), e.a, e.b)
	}
	return nil, nil
}

// compressed reads object num, the index-th of object stream stm.
func (d *doc) compressed(num, stm, index int64) (Object, error) {
	s, err := d.objStm(stm)
	if err != nil {
		return nil, fmt.Errorf("object %d in object stream %d: %w", num, stm, err)
	}
	if index < 0 || index >= int64(len(s.nums)) || s.nums[index] != num {
		// The index is wrong in some files; the stream's header is right.
		index = -1
		for i, n := range s.nums {
			if n == num {
				index = int64(i)
				break
			}
		}
		if index < 0 {
			return nil, fmt.Errorf("object %d is not in object stream %d", num, stm)
		}
	}
	l := &lexer{b: s.data, pos: s.offs[index], elements: &d.elements}
	o, err := l.object(0)
	if err != nil {
		return nil, fmt.Errorf("object %d in object stream %d: %w", num, stm, err)
	}
	return o, nil
}

func (d *doc) objStm(num int64) (*objStm, error) {
	if s, ok := d.objStms[num]; ok {
		if s == nil {
			return nil, errors.New("object streams refer to each other")
		}
		return s, nil
	}
	if d.objStms == nil {
		d.objStms = map[int64]*objStm{}
	}
	d.objStms[num] = nil // a stream whose own entry points into itself
	s, err := d.readObjStm(num)
	if err != nil {
		delete(d.objStms, num)
		return nil, err
	}
	d.objStms[num] = s
	return s, nil
}

func (d *doc) readObjStm(num int64) (*objStm, error) {
	e := d.lookup(num)
	if e.typ != entryInUse {
		return nil, errors.New("the object stream is missing")
	}
	o, _, err := d.objectAt(e.a, num)
	if err != nil {
		return nil, err
	}
	st, ok := o.(*Stream)
	if !ok || st.Dict["Type"] != Name("ObjStm") {
		return nil, errors.New("not an object stream")
	}
	n, ok1 := st.Dict["N"].(int64)
	first, ok2 := st.Dict["First"].(int64)
	if !ok1 || !ok2 || n < 0 || first < 0 {
		return nil, errors.New("object stream without /N or /First")
	}
	data, err := d.decode(st)
	if err != nil {
		return nil, err
	}
	if first > int64(len(data)) || n > int64(len(data))/2+1 {
		return nil, errors.New("object stream header larger than its data")
	}
	s := &objStm{data: data, nums: make([]int64, 0, n), offs: make([]int, 0, n)}
	l := &lexer{b: data[:first], elements: &d.elements}
	for i := int64(0); i < n; i++ {
		on, ok1 := l.uint()
		off, ok2 := l.uint()
		if !ok1 || !ok2 || first+off >= int64(len(data)) {
			return nil, errors.New("bad object stream header")
		}
		s.nums = append(s.nums, on)
		s.offs = append(s.offs, int(first+off))
	}
	return s, nil
}

// decode returns a stream's decoded data. Only what object and xref
// streams use is supported: no filter, or FlateDecode with or without a
// PNG or TIFF predictor.
func (d *doc) decode(st *Stream) ([]byte, error) {
	filters, params := filterList(st.Dict)
	if len(filters) > 1 {
		return nil, fmt.Errorf("stream filters %v not supported here", filters)
	}
	limit := int64(len(st.Raw))*maxStreamRatio + 64<<10
	if rest := int64(maxDecoded - d.decoded); limit > rest {
		limit = rest
	}
	if limit <= 0 {
		return nil, fmt.Errorf("more than %d bytes of decoded streams", maxDecoded)
	}
	var out []byte
	if len(filters) == 0 {
		out = st.Raw
		limit = int64(len(st.Raw))
	} else {
		if filters[0] != "FlateDecode" && filters[0] != "Fl" {
			return nil, fmt.Errorf("stream filter %s not supported here", filters[0])
		}
		var err error
		out, err = d.inflate(st.Raw, limit)
		if err != nil {
			return nil, err
		}
		d.decoded += len(out)
	}
	var p Dict
	if len(params) > 0 {
		p, _ = params[0].(Dict)
	}
	return unpredict(out, p)
}

func filterList(d Dict) ([]Name, []Object) {
	var fs []Name
	switch f := d["Filter"].(type) {
	case Name:
		fs = []Name{f}
	case Array:
		for _, x := range f {
			if n, ok := x.(Name); ok {
				fs = append(fs, n)
			}
		}
	}
	var ps []Object
	switch p := d["DecodeParms"].(type) {
	case Dict:
		ps = []Object{p}
	case Array:
		ps = p
	}
	return fs, ps
}

// inflate decompresses zlib data (or raw deflate, which some writers
// produce), reading at most limit+1 bytes. A bad checksum or a missing end
// after complete data is tolerated as every PDF reader does. The
// decompressor is reused: a document may have thousands of object streams.
func (d *doc) inflate(raw []byte, limit int64) ([]byte, error) {
	var r io.Reader
	src := bytes.NewReader(raw)
	var err error
	if d.zr == nil {
		d.zr, err = zlib.NewReader(src)
	} else {
		err = d.zr.(zlib.Resetter).Reset(src, nil)
	}
	if err == nil {
		r = d.zr
	} else {
		d.zr = nil
		src.Reset(raw)
		if d.fr == nil {
			d.fr = flate.NewReader(src)
		} else {
			d.fr.(flate.Resetter).Reset(src, nil)
		}
		r = d.fr
	}
	var buf bytes.Buffer
	buf.Grow(int(min(limit, int64(len(raw))*4+512)))
	_, err = io.Copy(&buf, io.LimitReader(r, limit+1))
	if err != nil && buf.Len() == 0 {
		return nil, fmt.Errorf("FlateDecode: %v", err)
	}
	if int64(buf.Len()) > limit {
		return nil, fmt.Errorf("stream larger than %d bytes decoded", limit)
	}
	return buf.Bytes(), nil
}

// unpredict undoes a /Predictor (PNG 10–15, TIFF 2) of 8-bit components.
func unpredict(b []byte, p Dict) ([]byte, error) {
	pred, _ := p["Predictor"].(int64)
	if pred <= 1 {
		return b, nil
	}
	colors, cols, bpc := int64(1), int64(1), int64(8)
	if v, ok := p["Colors"].(int64); ok {
		colors = v
	}
	if v, ok := p["Columns"].(int64); ok {
		cols = v
	}
	if v, ok := p["BitsPerComponent"].(int64); ok {
		bpc = v
	}
	if colors < 1 || colors > 32 || cols < 1 || cols > 1<<20 || bpc != 8 {
		return nil, errors.New("predictor parameters not supported")
	}
	bpp := int(colors)
	rowLen := int(colors * cols)
	if pred == 2 { // TIFF
		out := bytes.Clone(b)
		for r := 0; r+rowLen <= len(out); r += rowLen {
			for i := bpp; i < rowLen; i++ {
				out[r+i] += out[r+i-bpp]
			}
		}
		return out, nil
	}
	if pred < 10 || pred > 15 {
		return nil, fmt.Errorf("predictor %d not supported", pred)
	}
	rows := len(b) / (rowLen + 1)
	out := make([]byte, rows*rowLen)
	prev := make([]byte, rowLen)
	for r := 0; r < rows; r++ {
		in := b[r*(rowLen+1):]
		typ, cur := in[0], out[r*rowLen:(r+1)*rowLen]
		copy(cur, in[1:rowLen+1])
		for i := 0; i < rowLen; i++ {
			var left, upLeft byte
			if i >= bpp {
				left, upLeft = cur[i-bpp], prev[i-bpp]
			}
			up := prev[i]
			switch typ {
			case 0:
			case 1:
				cur[i] += left
			case 2:
				cur[i] += up
			case 3:
				cur[i] += byte((int(left) + int(up)) / 2)
			case 4:
				cur[i] += paeth(left, up, upLeft)
			default:
				return nil, fmt.Errorf("PNG predictor row type %d", typ)
			}
		}
		prev = cur
	}
	return out, nil
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	if pa <= pb && pa <= pc {
		return a
	}
	if pb <= pc {
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
