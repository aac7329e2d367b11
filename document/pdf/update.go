package pdf

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
)

// update is an incremental update being built: new and rewritten objects,
// then a cross-reference section of the kind the file's last one is, and
// a trailer pointing back with /Prev. The original bytes are never
// touched.
type update struct {
	p    *parsed
	next uint32 // the next new object number
	objs map[Ref]Object
	// raw holds objects written by hand (the signature dictionary) whose
	// byte positions matter.
	raw   map[Ref][]byte
	order []Ref
}

func newUpdate(p *parsed) *update {
	next := p.maxNum()
	if s, ok := p.trailer["Size"].(int64); ok && s > next {
		next = s
	}
	return &update{p: p, next: uint32(next), objs: map[Ref]Object{}, raw: map[Ref][]byte{}}
}

func (u *update) alloc() Ref {
	r := Ref{Num: u.next}
	u.next++
	return r
}

// put sets object r (new, or a rewrite of an existing one).
func (u *update) put(r Ref, o Object) {
	if _, ok := u.objs[r]; !ok {
		if _, ok := u.raw[r]; !ok {
			u.order = append(u.order, r)
		}
	}
	u.objs[r] = o
}

func (u *update) putRaw(r Ref, b []byte) {
	if _, ok := u.objs[r]; !ok {
		if _, ok := u.raw[r]; !ok {
			u.order = append(u.order, r)
		}
	}
	u.raw[r] = b
}

// encode writes the update: the objects, the cross-reference section and
// the trailer. rawAt receives, for each object put with putRaw, the
// offset in the returned bytes where its body starts.
func (u *update) encode() (out []byte, rawAt map[Ref]int, err error) {
	base := int64(len(u.p.data))
	if base > 0 && u.p.data[base-1] != '\n' && u.p.data[base-1] != '\r' {
		out = append(out, '\n')
	}
	rawAt = map[Ref]int{}
	offsets := map[Ref]int64{}
	for _, r := range u.order {
		offsets[r] = base + int64(len(out))
		out = strconv.AppendUint(out, uint64(r.Num), 10)
		out = append(out, ' ')
		out = strconv.AppendUint(out, uint64(r.Gen), 10)
		out = append(out, " obj\n"...)
		if b, ok := u.raw[r]; ok {
			rawAt[r] = len(out)
			out = append(out, b...)
		} else {
			out = appendObject(out, u.objs[r])
		}
		out = append(out, "\nendobj\n"...)
	}
	trailer := Dict{}
	for k, v := range u.p.trailer {
		switch k {
		case "Prev", "XRefStm", "Size", "Type", "W", "Index", "Length", "Filter", "DecodeParms", "F", "FFilter", "FDecodeParms", "DL":
		default:
			trailer[k] = v
		}
	}
	trailer["Prev"] = u.p.sections[0].offset
	var id [16]byte
	rand.Read(id[:])
	if ids, ok := u.p.trailer["ID"].(Array); ok && len(ids) == 2 {
		if first, ok := ids[0].(String); ok {
			trailer["ID"] = Array{first, String(id[:])}
		}
	}
	if _, ok := trailer["ID"]; !ok {
		trailer["ID"] = Array{String(id[:]), String(id[:])}
	}
	xrefAt := base + int64(len(out))
	if u.p.sections[0].stream {
		self := u.alloc()
		offsets[self] = xrefAt
		trailer["Size"] = int64(u.next)
		out = u.appendXrefStream(out, self, offsets, trailer)
	} else {
		trailer["Size"] = int64(u.next)
		out = appendXrefTable(out, offsets, trailer)
	}
	out = append(out, "startxref\n"...)
	out = strconv.AppendInt(out, xrefAt, 10)
	out = append(out, "\n%%EOF\n"...)
	return out, rawAt, nil
}

// runs groups the sorted object numbers into consecutive runs.
func runs(offsets map[Ref]int64) [][]Ref {
	refs := make([]Ref, 0, len(offsets))
	for r := range offsets {
		refs = append(refs, r)
	}
	slices.SortFunc(refs, func(a, b Ref) int { return int(a.Num) - int(b.Num) })
	var out [][]Ref
	for i, r := range refs {
		if i > 0 && r.Num == refs[i-1].Num+1 {
			out[len(out)-1] = append(out[len(out)-1], r)
		} else {
			out = append(out, []Ref{r})
		}
	}
	return out
}

func appendXrefTable(out []byte, offsets map[Ref]int64, trailer Dict) []byte {
	out = append(out, "xref\n"...)
	for _, run := range runs(offsets) {
		out = fmt.Appendf(out, "%d %d\n", run[0].Num, len(run))
		for _, r := range run {
			out = fmt.Appendf(out, "%010d %05d n\r\n", offsets[r], r.Gen)
		}
	}
	out = append(out, "trailer\n"...)
	out = appendObject(out, trailer)
	return append(out, '\n')
}

// appendXrefStream writes the section as a cross-reference stream, object
// self, listing itself too.
func (u *update) appendXrefStream(out []byte, self Ref, offsets map[Ref]int64, trailer Dict) []byte {
	const wOff = 4 // offsets up to 4 GiB; the engine's documents are ≤ 64 MiB
	var index Array
	var rows []byte
	for _, run := range runs(offsets) {
		index = append(index, int64(run[0].Num), int64(len(run)))
		for _, r := range run {
			var row [1 + wOff + 2]byte
			row[0] = 1
			binary.BigEndian.PutUint32(row[1:5], uint32(offsets[r]))
			binary.BigEndian.PutUint16(row[5:7], r.Gen)
			rows = append(rows, row[:]...)
		}
	}
	d := Dict{}
	for k, v := range trailer {
		d[k] = v
	}
	d["Type"] = Name("XRef")
	d["W"] = Array{int64(1), int64(wOff), int64(2)}
	d["Index"] = index
	out = strconv.AppendUint(out, uint64(self.Num), 10)
	out = append(out, " 0 obj\n"...)
	out = appendObject(out, &Stream{Dict: d, Raw: rows})
	return append(out, "\nendobj\n"...)
}
