// Package ttf is the stamp's font: Noto Sans cut to Latin and Vietnamese
// (NotoSans-Vietnamese.ttf, made by make-font.sh, licence in OFL.txt),
// its metrics, and a subsetter that keeps only the glyphs a stamp uses.
//
// Character lookup uses golang.org/x/image/font/sfnt. The subsetter is
// this package's: no Go library on the module proxy subsets TrueType as a
// library call (pdfcpu's works only on fonts installed in its own
// configuration directory, go-pdf/fpdf's is unexported, tdewolff/font is
// not served), and for a PDF's CIDFontType2 with an identity CIDToGIDMap it
// is simple: glyph ids are kept, unused glyphs become empty, the
// components of composite glyphs (most Vietnamese letters are a base
// letter and marks) are kept with them.
package ttf

import (
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

//go:embed NotoSans-Vietnamese.ttf
var notoSans []byte

// Font is a parsed TrueType font.
type Font struct {
	raw        []byte
	sf         *sfnt.Font
	tables     map[string][]byte
	UnitsPerEm int
	NumGlyphs  int
	// In font units: what a PDF FontDescriptor needs.
	Ascent, Descent, CapHeight int
	BBox                       [4]int
	PostScriptName             string
	loca                       []uint32 // NumGlyphs+1 offsets into glyf
	advances                   []uint16
	mu                         sync.Mutex
	buf                        sfnt.Buffer
}

var (
	defaultOnce sync.Once
	defaultFont *Font
	defaultErr  error
)

// Default is the embedded Noto Sans subset.
func Default() (*Font, error) {
	defaultOnce.Do(func() { defaultFont, defaultErr = Parse(notoSans) })
	return defaultFont, defaultErr
}

// Parse reads a TrueType (glyf) font.
func Parse(b []byte) (*Font, error) {
	sf, err := sfnt.Parse(b)
	if err != nil {
		return nil, err
	}
	f := &Font{raw: b, sf: sf, tables: map[string][]byte{}}
	if len(b) < 12 {
		return nil, errors.New("ttf: too short")
	}
	n := int(binary.BigEndian.Uint16(b[4:]))
	for i := 0; i < n; i++ {
		rec := 12 + 16*i
		if rec+16 > len(b) {
			return nil, errors.New("ttf: table directory truncated")
		}
		tag := string(b[rec : rec+4])
		off := binary.BigEndian.Uint32(b[rec+8:])
		length := binary.BigEndian.Uint32(b[rec+12:])
		if uint64(off)+uint64(length) > uint64(len(b)) {
			return nil, fmt.Errorf("ttf: table %s outside the file", tag)
		}
		f.tables[tag] = b[off : off+length]
	}
	for _, t := range []string{"head", "hhea", "maxp", "hmtx", "loca", "glyf"} {
		if f.tables[t] == nil {
			return nil, fmt.Errorf("ttf: no %s table", t)
		}
	}
	head, hhea, maxp := f.tables["head"], f.tables["hhea"], f.tables["maxp"]
	if len(head) < 54 || len(hhea) < 36 || len(maxp) < 6 {
		return nil, errors.New("ttf: short head, hhea or maxp")
	}
	f.UnitsPerEm = int(binary.BigEndian.Uint16(head[18:]))
	for i := range f.BBox {
		f.BBox[i] = int(int16(binary.BigEndian.Uint16(head[36+2*i:])))
	}
	f.Ascent = int(int16(binary.BigEndian.Uint16(hhea[4:])))
	f.Descent = int(int16(binary.BigEndian.Uint16(hhea[6:])))
	f.CapHeight = f.Ascent * 7 / 10
	if os2 := f.tables["OS/2"]; len(os2) >= 90 && binary.BigEndian.Uint16(os2) >= 2 {
		f.CapHeight = int(int16(binary.BigEndian.Uint16(os2[88:])))
	}
	f.NumGlyphs = int(binary.BigEndian.Uint16(maxp[4:]))
	long := binary.BigEndian.Uint16(head[50:]) == 1
	loca := f.tables["loca"]
	for i := 0; i <= f.NumGlyphs; i++ {
		var off uint32
		if long {
			if 4*i+4 > len(loca) {
				return nil, errors.New("ttf: short loca")
			}
			off = binary.BigEndian.Uint32(loca[4*i:])
		} else {
			if 2*i+2 > len(loca) {
				return nil, errors.New("ttf: short loca")
			}
			off = 2 * uint32(binary.BigEndian.Uint16(loca[2*i:]))
		}
		if off > uint32(len(f.tables["glyf"])) || (i > 0 && off < f.loca[i-1]) {
			return nil, errors.New("ttf: bad loca")
		}
		f.loca = append(f.loca, off)
	}
	nh := int(binary.BigEndian.Uint16(hhea[34:]))
	hmtx := f.tables["hmtx"]
	if nh == 0 || 4*nh > len(hmtx) {
		return nil, errors.New("ttf: bad hmtx")
	}
	for i := 0; i < f.NumGlyphs; i++ {
		f.advances = append(f.advances, binary.BigEndian.Uint16(hmtx[4*min(i, nh-1):]))
	}
	if name, err := sf.Name(&f.buf, sfnt.NameIDPostScript); err == nil {
		f.PostScriptName = name
	}
	return f, nil
}

// GlyphIndex is the glyph for r, 0 (.notdef) when the font lacks it.
func (f *Font) GlyphIndex(r rune) uint16 {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := f.sf.GlyphIndex(&f.buf, r)
	if err != nil {
		return 0
	}
	return uint16(g)
}

// Advance is glyph g's advance width in font units.
func (f *Font) Advance(g uint16) int {
	if int(g) >= len(f.advances) {
		return 0
	}
	return int(f.advances[g])
}

// Kern is the kerning between two glyphs in font units (0 without a kern
// table, as in the embedded font whose GPOS was dropped).
func (f *Font) Kern(a, b uint16) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	k, err := f.sf.Kern(&f.buf, sfnt.GlyphIndex(a), sfnt.GlyphIndex(b), fixed.Int26_6(f.UnitsPerEm<<6), font.HintingNone)
	if err != nil {
		return 0
	}
	return int(k >> 6)
}

func (f *Font) glyph(g uint16) []byte {
	if int(g)+1 >= len(f.loca) {
		return nil
	}
	return f.tables["glyf"][f.loca[g]:f.loca[g+1]]
}

// components are the glyphs a composite glyph is made of.
func components(g []byte) []uint16 {
	if len(g) < 10 || int16(binary.BigEndian.Uint16(g)) >= 0 {
		return nil
	}
	var out []uint16
	p := 10
	for p+4 <= len(g) {
		flags := binary.BigEndian.Uint16(g[p:])
		out = append(out, binary.BigEndian.Uint16(g[p+2:]))
		p += 4
		if flags&0x1 != 0 { // ARG_1_AND_2_ARE_WORDS
			p += 4
		} else {
			p += 2
		}
		switch {
		case flags&0x8 != 0: // WE_HAVE_A_SCALE
			p += 2
		case flags&0x40 != 0: // WE_HAVE_AN_X_AND_Y_SCALE
			p += 4
		case flags&0x80 != 0: // WE_HAVE_A_TWO_BY_TWO
			p += 8
		}
		if flags&0x20 == 0 { // MORE_COMPONENTS
			break
		}
	}
	return out
}

// Subset returns a font file with only the given glyphs (and .notdef and
// the components of composites) drawn; glyph ids are unchanged, so a PDF
// uses them as CIDs with /CIDToGIDMap /Identity.
func (f *Font) Subset(glyphs []uint16) ([]byte, error) {
	keep := map[uint16]bool{}
	todo := append(slices.Clone(glyphs), 0)
	for len(todo) > 0 && len(keep) <= f.NumGlyphs {
		g := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if keep[g] || int(g) >= f.NumGlyphs {
			continue
		}
		keep[g] = true
		todo = append(todo, components(f.glyph(g))...)
	}
	var glyf []byte
	loca := make([]byte, 4*(f.NumGlyphs+1))
	for g := 0; g < f.NumGlyphs; g++ {
		binary.BigEndian.PutUint32(loca[4*g:], uint32(len(glyf)))
		if keep[uint16(g)] {
			glyf = append(glyf, f.glyph(uint16(g))...)
			for len(glyf)%4 != 0 {
				glyf = append(glyf, 0)
			}
		}
	}
	binary.BigEndian.PutUint32(loca[4*f.NumGlyphs:], uint32(len(glyf)))
	head := slices.Clone(f.tables["head"])
	binary.BigEndian.PutUint16(head[50:], 1) // long loca
	binary.BigEndian.PutUint32(head[8:], 0)  // checkSumAdjustment, set below
	tables := map[string][]byte{"head": head, "loca": loca, "glyf": glyf}
	for _, t := range []string{"hhea", "maxp", "hmtx", "OS/2", "name", "post", "cmap"} {
		if b := f.tables[t]; b != nil {
			tables[t] = b
		}
	}
	out := assemble(tables)
	binary.BigEndian.PutUint32(out[headOffset(out)+8:], 0xB1B0AFBA-checksum(out))
	return out, nil
}

// assemble writes an sfnt file from tables (sorted by tag, 4-byte aligned).
func assemble(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	for t := range tables {
		tags = append(tags, t)
	}
	slices.Sort(tags)
	n := len(tags)
	es := 0
	for 1<<(es+1) <= n {
		es++
	}
	out := make([]byte, 12+16*n)
	binary.BigEndian.PutUint32(out, 0x00010000)
	binary.BigEndian.PutUint16(out[4:], uint16(n))
	binary.BigEndian.PutUint16(out[6:], uint16(16<<es))
	binary.BigEndian.PutUint16(out[8:], uint16(es))
	binary.BigEndian.PutUint16(out[10:], uint16(16*n-16<<es))
	for i, t := range tags {
		b := tables[t]
		rec := out[12+16*i:]
		copy(rec, t)
		binary.BigEndian.PutUint32(rec[4:], checksum(b))
		binary.BigEndian.PutUint32(rec[8:], uint32(len(out)))
		binary.BigEndian.PutUint32(rec[12:], uint32(len(b)))
		out = append(out, b...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	return out
}

func checksum(b []byte) uint32 {
	var s uint32
	for i := 0; i < len(b); i += 4 {
		var w [4]byte
		copy(w[:], b[i:])
		s += binary.BigEndian.Uint32(w[:])
	}
	return s
}

func headOffset(font []byte) int {
	n := int(binary.BigEndian.Uint16(font[4:]))
	for i := 0; i < n; i++ {
		rec := font[12+16*i:]
		if string(rec[:4]) == "head" {
			return int(binary.BigEndian.Uint32(rec[8:]))
		}
	}
	return 0
}
