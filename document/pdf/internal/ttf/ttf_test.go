package ttf

import (
	"strings"
	"testing"

	"golang.org/x/image/font/sfnt"
	"golang.org/x/text/unicode/norm"
)

// vietnamese is every letter of the Vietnamese alphabet, with each tone
// on each vowel, both cases (the 134 with a diacritic among them).
func vietnamese() []rune {
	var out []rune
	for _, base := range "abcdđeghiklmnopqrstuvxyăâêôơư" {
		out = append(out, base)
	}
	for _, v := range []string{"a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y"} {
		for _, tone := range []string{"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"} {
			out = append(out, []rune(norm.NFC.String(v+tone))...)
		}
	}
	up := []rune(strings.ToUpper(string(out)))
	return append(out, up...)
}

func TestVietnameseCoverage(t *testing.T) {
	f, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	letters := vietnamese()
	if len(letters) != 2*(29+60) {
		t.Fatalf("%d letters", len(letters))
	}
	for _, r := range append(letters, '₫', '…', '–', '“', '”', '0', '9', ':', '/', '+') {
		if g := f.GlyphIndex(r); g == 0 || f.Advance(g) == 0 {
			t.Errorf("%q (U+%04X): glyph %d advance %d", r, r, g, f.Advance(g))
		}
	}
	if f.GlyphIndex('中') != 0 {
		t.Error("a CJK character has a glyph: the subset is not the expected one")
	}
	if f.UnitsPerEm != 1000 || f.PostScriptName != "NotoSans-Regular" {
		t.Errorf("units per em %d, name %q", f.UnitsPerEm, f.PostScriptName)
	}
}

// TestSubset: the subset is a valid font where the kept glyphs (and their
// components) have their outlines and every other glyph is empty.
func TestSubset(t *testing.T) {
	f, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	// A Vietnamese letter drawn as a composite glyph (Noto's Đ is Eth).
	var ae uint16
	var comps []uint16
	for _, r := range vietnamese() {
		if c := components(f.glyph(f.GlyphIndex(r))); len(c) > 0 {
			ae, comps = f.GlyphIndex(r), c
			break
		}
	}
	if comps == nil {
		t.Fatal("no composite glyph among the Vietnamese letters")
	}
	sub, err := f.Subset([]uint16{ae, f.GlyphIndex('K')})
	if err != nil {
		t.Fatal(err)
	}
	if len(sub) > len(notoSans)/3 {
		t.Errorf("subset of %d bytes, the font has %d", len(sub), len(notoSans))
	}
	g, err := Parse(sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sfnt.Parse(sub); err != nil {
		t.Fatal(err)
	}
	kept := map[uint16]bool{0: true, ae: true, f.GlyphIndex('K'): true}
	for _, c := range comps {
		kept[c] = true
	}
	for gid := 0; gid < f.NumGlyphs; gid++ {
		has := len(g.glyph(uint16(gid))) > 0
		if kept[uint16(gid)] != has && len(f.glyph(uint16(gid))) > 0 {
			t.Errorf("glyph %d: in subset %v, want %v", gid, has, kept[uint16(gid)])
		}
		if g.Advance(uint16(gid)) != f.Advance(uint16(gid)) {
			t.Errorf("glyph %d: advance changed", gid)
		}
	}
	// The sfnt checksum adjustment makes the whole file sum to the magic.
	if s := checksum(sub); s != 0xB1B0AFBA {
		t.Errorf("file checksum %#x", s)
	}
}
