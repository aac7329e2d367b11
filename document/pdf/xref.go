package pdf

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// Cross-reference reading. Sections are kept as they are in the file and
// looked up on demand (a classic table's entries have a fixed width, an
// xref stream's are decoded once), so a document with a million objects
// costs no per-object memory.

const (
	maxSections = 4096    // incremental updates (and linearization) chained by /Prev
	maxObjNum   = 8388607 // ISO 32000-1 Annex C: the largest object number
)

type entryType uint8

const (
	entryAbsent entryType = iota
	entryFree
	entryInUse      // at byte offset a, generation b
	entryCompressed // in object stream a at index b
)

type entry struct {
	typ  entryType
	a, b int64
}

type subsection struct {
	first, count int64
	at           int // classic: byte offset of its first entry; stream: index of its first row
}

// section is one cross-reference section: a classic table or a stream.
type section struct {
	offset  int64 // where it starts in the file
	stream  bool
	subs    []subsection
	rowLen  int // classic: 20 (or 19 for some writers); stream: sum of W
	w       [3]int
	data    []byte // classic: the file; stream: the decoded rows
	sorted  bool   // subsections ascending and disjoint: binary search
	trailer Dict
	xrefStm *section // hybrid files: the /XRefStm section of a classic trailer
}

// lookup finds num in this section alone.
func (s *section) lookup(num int64) entry {
	e := s.lookupOwn(num)
	if s.xrefStm != nil && e.typ != entryInUse {
		// ISO 32000-1 §7.5.8.4: a hybrid file's table lists the compressed
		// objects as free (or not at all); the XRefStm has them.
		if e2 := s.xrefStm.lookupOwn(num); e2.typ != entryAbsent {
			return e2
		}
	}
	return e
}

func (s *section) lookupOwn(num int64) entry {
	subs := s.subs
	if s.sorted {
		// Binary search for the last subsection starting at or before num.
		i, _ := slices.BinarySearchFunc(subs, num+1, func(sub subsection, n int64) int { return cmp.Compare(sub.first, n) })
		if i == 0 {
			return entry{}
		}
		subs = subs[i-1 : i]
	}
	for _, sub := range subs {
		if num < sub.first || num >= sub.first+sub.count {
			continue
		}
		i := num - sub.first
		if s.stream {
			return s.row(sub.at + int(i))
		}
		return s.classicRow(sub.at + int(i)*s.rowLen)
	}
	return entry{}
}

// index prepares lookups: subsections in order and not overlapping (as
// writers make them) are binary-searched; others, rare and small, are
// scanned, and refused when many.
func (s *section) index() error {
	s.sorted = true
	for i := 1; i < len(s.subs); i++ {
		if s.subs[i].first < s.subs[i-1].first+s.subs[i-1].count {
			s.sorted = false
			break
		}
	}
	if !s.sorted && len(s.subs) > 1000 {
		return fmt.Errorf("cross-reference section at byte %d: %d subsections out of order", s.offset, len(s.subs))
	}
	return nil
}

// classicRow reads "oooooooooo ggggg n" at p (checked when the table was
// read: digits and the type letter are where they must be).
func (s *section) classicRow(p int) entry {
	r := s.data[p : p+18]
	off := atoi(r[0:10])
	gen := atoi(r[11:16])
	if r[17] == 'f' || off == 0 {
		// An in-use entry at offset 0 is how some writers mark an object
		// they never wrote: readers treat it as free.
		return entry{typ: entryFree}
	}
	return entry{typ: entryInUse, a: off, b: gen}
}

func atoi(b []byte) int64 {
	var n int64
	for _, c := range b {
		n = n*10 + int64(c-'0')
	}
	return n
}

func (s *section) row(i int) entry {
	r := s.data[i*s.rowLen : (i+1)*s.rowLen]
	field := func(k int, def int64) int64 {
		if s.w[k] == 0 {
			return def
		}
		var v int64
		for _, c := range r[:s.w[k]] {
			v = v<<8 | int64(c)
		}
		r = r[s.w[k]:]
		return v
	}
	t := field(0, 1)
	a := field(1, 0)
	b := field(2, 0)
	switch t {
	case 0:
		return entry{typ: entryFree}
	case 1:
		if a == 0 {
			return entry{typ: entryFree}
		}
		return entry{typ: entryInUse, a: a, b: b}
	case 2:
		return entry{typ: entryCompressed, a: a, b: b}
	}
	// Types above 2 are reserved and "shall be ignored": a null object.
	return entry{typ: entryFree}
}

// readXrefChain reads the section at startxref and every older one
// reached through /Prev, newest first.
func (d *doc) readXrefChain(start int64) error {
	seen := map[int64]bool{}
	for off := start; ; {
		if len(d.sections) >= maxSections {
			return fmt.Errorf("more than %d cross-reference sections", maxSections)
		}
		if seen[off] {
			break // a /Prev loop: the chain is complete
		}
		seen[off] = true
		s, err := d.readSection(off)
		if err != nil {
			if len(d.sections) == 0 {
				return err
			}
			return fmt.Errorf("an older cross-reference section: %w", err)
		}
		d.sections = append(d.sections, s)
		if x, ok := s.trailer["XRefStm"].(int64); ok && !s.stream {
			xs, err := d.readSection(x)
			if err != nil || !xs.stream {
				return fmt.Errorf("the /XRefStm of the section at byte %d: %v", off, err)
			}
			s.xrefStm = xs
		}
		prev, ok := s.trailer["Prev"]
		if !ok {
			break
		}
		p, ok := prev.(int64)
		if !ok {
			return errors.New("/Prev is not an integer")
		}
		off = p
	}
	d.lookups = map[int64]entry{}
	return nil
}

func (d *doc) readSection(off int64) (*section, error) {
	if off < 0 || off >= int64(len(d.data)) {
		return nil, fmt.Errorf("cross-reference offset %d is outside the file (%d bytes)", off, len(d.data))
	}
	l := d.lexer(int(off))
	l.skip()
	if bytes.HasPrefix(d.data[l.pos:], []byte("xref")) {
		return d.readTable(l, off)
	}
	return d.readStreamSection(off)
}

// readTable reads a classic "xref" table and its trailer.
func (d *doc) readTable(l *lexer, off int64) (*section, error) {
	l.pos += 4
	s := &section{offset: off, data: d.data, rowLen: 20}
	for {
		l.skip()
		if bytes.HasPrefix(d.data[l.pos:], []byte("trailer")) {
			l.pos += 7
			break
		}
		first, ok1 := l.uint()
		count, ok2 := l.uint()
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("cross-reference table at byte %d: bad subsection header", off)
		}
		if first > maxObjNum || count > maxObjNum {
			return nil, fmt.Errorf("cross-reference table at byte %d: object numbers beyond %d", off, maxObjNum)
		}
		// The header ends with an end of line; rows follow.
		for l.pos < len(d.data) && (d.data[l.pos] == ' ' || d.data[l.pos] == '\t') {
			l.pos++
		}
		if l.pos < len(d.data) && d.data[l.pos] == '\r' {
			l.pos++
		}
		if l.pos < len(d.data) && d.data[l.pos] == '\n' {
			l.pos++
		}
		rowLen := 20
		if count > 0 {
			if l.pos+19 > len(d.data) {
				return nil, fmt.Errorf("cross-reference table at byte %d: truncated", off)
			}
			// Some writers end rows with one byte instead of two.
			if c := d.data[l.pos+18]; (c == '\n' || c == '\r') && l.pos+19 < len(d.data) && d.data[l.pos+19] >= '0' && d.data[l.pos+19] <= '9' {
				rowLen = 19
			}
		}
		if len(s.subs) > 0 && count > 0 && rowLen != s.rowLen {
			return nil, fmt.Errorf("cross-reference table at byte %d: rows of mixed lengths", off)
		}
		if count > 0 {
			s.rowLen = rowLen
		}
		end := int64(l.pos) + count*int64(rowLen)
		if end > int64(len(d.data)) {
			return nil, fmt.Errorf("cross-reference table at byte %d: truncated", off)
		}
		for i := int64(0); i < count; i++ {
			if !validRow(d.data[l.pos+int(i)*rowLen:]) {
				return nil, fmt.Errorf("cross-reference table at byte %d: bad entry for object %d", off, first+i)
			}
		}
		s.subs = append(s.subs, subsection{first: first, count: count, at: l.pos})
		l.pos = int(end)
		if len(s.subs) > maxObjNum {
			return nil, errors.New("too many subsections")
		}
	}
	t, err := l.object(0)
	if err != nil {
		return nil, fmt.Errorf("trailer of the cross-reference table at byte %d: %w", off, err)
	}
	td, ok := t.(Dict)
	if !ok {
		return nil, fmt.Errorf("trailer of the cross-reference table at byte %d is not a dictionary", off)
	}
	s.trailer = td
	return s, s.index()
}

// validRow checks "oooooooooo ggggg n" (digits, spaces, the type letter).
func validRow(r []byte) bool {
	if len(r) < 18 {
		return false
	}
	for i, c := range r[:18] {
		switch {
		case i == 10 || i == 16:
			if c != ' ' {
				return false
			}
		case i == 17:
			if c != 'n' && c != 'f' {
				return false
			}
		default:
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}

// readStreamSection reads an xref stream ("n g obj << /Type /XRef … >> stream").
func (d *doc) readStreamSection(off int64) (*section, error) {
	o, _, err := d.objectAt(off, -1)
	if err != nil {
		return nil, fmt.Errorf("no cross-reference table or stream at byte %d: %w", off, err)
	}
	st, ok := o.(*Stream)
	if !ok || st.Dict["Type"] != Name("XRef") {
		return nil, fmt.Errorf("no cross-reference table or stream at byte %d", off)
	}
	s := &section{offset: off, stream: true, trailer: st.Dict}
	w, ok := st.Dict["W"].(Array)
	if !ok || len(w) != 3 {
		return nil, fmt.Errorf("cross-reference stream at byte %d: bad /W", off)
	}
	for i, x := range w {
		n, ok := x.(int64)
		if !ok || n < 0 || n > 8 {
			return nil, fmt.Errorf("cross-reference stream at byte %d: bad /W", off)
		}
		s.w[i] = int(n)
		s.rowLen += int(n)
	}
	if s.rowLen == 0 {
		return nil, fmt.Errorf("cross-reference stream at byte %d: empty /W", off)
	}
	size, ok := st.Dict["Size"].(int64)
	if !ok || size < 0 || size > maxObjNum+1 {
		return nil, fmt.Errorf("cross-reference stream at byte %d: bad /Size", off)
	}
	index := Array{int64(0), size}
	if x, ok := st.Dict["Index"].(Array); ok {
		index = x
	}
	if len(index)%2 != 0 {
		return nil, fmt.Errorf("cross-reference stream at byte %d: bad /Index", off)
	}
	data, err := d.decode(st)
	if err != nil {
		return nil, fmt.Errorf("cross-reference stream at byte %d: %w", off, err)
	}
	s.data = data
	row := 0
	for i := 0; i < len(index); i += 2 {
		first, ok1 := index[i].(int64)
		count, ok2 := index[i+1].(int64)
		if !ok1 || !ok2 || first < 0 || count < 0 || first > maxObjNum || count > maxObjNum {
			return nil, fmt.Errorf("cross-reference stream at byte %d: bad /Index", off)
		}
		if (int64(row)+count)*int64(s.rowLen) > int64(len(data)) {
			return nil, fmt.Errorf("cross-reference stream at byte %d: fewer rows than /Index says", off)
		}
		s.subs = append(s.subs, subsection{first: first, count: count, at: row})
		row += int(count)
	}
	return s, s.index()
}

// lookup finds the newest definition of object num (remembered: a
// document may have thousands of sections).
func (d *doc) lookup(num int64) entry {
	if e, ok := d.lookups[num]; ok {
		return e
	}
	var e entry
	for _, s := range d.sections {
		if e = s.lookup(num); e.typ != entryAbsent {
			break
		}
	}
	if d.lookups != nil { // once every section is read
		d.lookups[num] = e
	}
	return e
}

// maxNum is one more than the largest object number any section defines.
func (d *doc) maxNum() int64 {
	var m int64
	visit := func(s *section) {
		for _, sub := range s.subs {
			if sub.count > 0 && sub.first+sub.count > m {
				m = sub.first + sub.count
			}
		}
	}
	for _, s := range d.sections {
		visit(s)
		if s.xrefStm != nil {
			visit(s.xrefStm)
		}
	}
	return m
}

// checkOffsets checks that every in-use entry of every section points at
// the start of that object ("num gen obj"): a file whose offsets are off
// (damaged, truncated in the middle, line endings converted) is refused
// rather than signed, since readers would each repair it their own way.
func (d *doc) checkOffsets() error {
	check := func(s *section) error {
		for _, sub := range s.subs {
			for i := int64(0); i < sub.count; i++ {
				var e entry
				if s.stream {
					e = s.row(sub.at + int(i))
				} else {
					e = s.classicRow(sub.at + int(i)*s.rowLen)
				}
				if e.typ != entryInUse {
					continue
				}
				if !d.objectStartsAt(e.a, sub.first+i) {
					return fmt.Errorf("the cross-reference section at byte %d puts object %d at byte %d, where it is not", s.offset, sub.first+i, e.a)
				}
			}
		}
		return nil
	}
	for _, s := range d.sections {
		if err := check(s); err != nil {
			return err
		}
		if s.xrefStm != nil {
			if err := check(s.xrefStm); err != nil {
				return err
			}
		}
	}
	return nil
}

// objectStartsAt reports whether "num g obj" starts at off (white space
// before it tolerated).
func (d *doc) objectStartsAt(off, num int64) bool {
	if off < 0 || off >= int64(len(d.data)) {
		return false
	}
	l := d.lexer(int(off))
	n, ok := l.uint()
	if !ok || n != num {
		return false
	}
	if _, ok := l.uint(); !ok {
		return false
	}
	return l.keyword() == "obj"
}
