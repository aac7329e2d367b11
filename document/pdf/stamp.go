package pdf

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"kyso.vn/kyso/document"
	"kyso.vn/kyso/document/pdf/internal/ttf"
)

// Stamp is a visible signature: a box with text (and an optional image
// left of it) on one page.
type Stamp struct {
	// Page is 1-based; -1 (or 0) is the last page.
	Page int
	// Rect is x, y, width, height in points from the bottom-left corner of
	// the page as it is displayed (its crop box, after /Rotate). All zero:
	// the default, DefaultWidth×DefaultHeight at the bottom right, Margin
	// from the edges (smaller on a page too small for it).
	Rect [4]float64
	// Text is the stamp's lines ("\n" between them); "" is DefaultText.
	// Long lines wrap, and the font shrinks (down to MinFontSize) to fit.
	Text string
	// Image is a PNG or JPEG (a seal, a handwritten signature) drawn left of
	// the text, keeping its aspect ratio; PNG transparency is kept.
	Image []byte
}

// The stamp's default geometry and type sizes, in points.
const (
	DefaultWidth  = 220
	DefaultHeight = 70
	Margin        = 36
	MaxFontSize   = 9
	MinFontSize   = 4
	noWrapMin     = 6.5 // smallest size at which lines are shrunk rather than wrapped
	padding       = 4
	lineHeight    = 1.22 // of the font size
)

// maxStampText bounds the stamp's text (characters): far more than a box
// shows, little enough to lay out fast.
const maxStampText = 1000

// Limits of a stamp image.
const (
	MaxImageBytes  = 8 << 20
	MaxImagePixels = 16 << 20
)

// The stamp's colours: a dark blue for text and border.
const stampColor = "0.075 0.227 0.522"

// DefaultText is the stamp text DESIGN asks for, from the certificate:
// "Ký bởi: <CN>", "Cơ quan: <O>" (omitted when the certificate names no
// organisation), "Ngày ký: dd/mm/yyyy HH:mm:ss ±hh:mm" in the signing
// time's own zone.
func DefaultText(s document.Signer) string {
	var lines []string
	if s.Cert != nil {
		lines = append(lines, "Ký bởi: "+s.Cert.Subject.CommonName)
		if o := s.Cert.Subject.Organization; len(o) > 0 && o[0] != "" {
			lines = append(lines, "Cơ quan: "+o[0])
		}
	}
	lines = append(lines, "Ngày ký: "+s.Time.Format("02/01/2006 15:04:05 -07:00"))
	return strings.Join(lines, "\n")
}

// stamp adds the appearance of a visible signature on pg and returns the
// widget's /Rect in user space and the appearance stream.
func (u *update) stamp(st *Stamp, pg *page, signer document.Signer) (Array, Ref, error) {
	// The page as displayed: the crop box, turned by /Rotate.
	cw, ch := pg.crop[2]-pg.crop[0], pg.crop[3]-pg.crop[1]
	vw, vh := cw, ch
	if pg.rotate == 90 || pg.rotate == 270 {
		vw, vh = ch, cw
	}
	x, y, w, h := st.Rect[0], st.Rect[1], st.Rect[2], st.Rect[3]
	if st.Rect == [4]float64{} {
		m := min(Margin, vw/10, vh/10)
		w, h = min(DefaultWidth, vw-2*m), min(DefaultHeight, vh-2*m)
		x, y = vw-m-w, m
	} else {
		const eps = 0.01
		if !(w > 0 && h > 0 && x >= -eps && y >= -eps && x+w <= vw+eps && y+h <= vh+eps) {
			return nil, Ref{}, bad("the stamp's rect [%g %g %g %g] is not inside page %d (%g × %g points as displayed)",
				x, y, w, h, pg.index+1, round2(vw), round2(vh))
		}
	}
	if w < 8 || h < 8 {
		return nil, Ref{}, bad("the stamp's rect is too small (%g × %g points; 8 × 8 at least)", round2(w), round2(h))
	}
	text := st.Text
	if text == "" {
		text = DefaultText(signer)
	}
	var img *stampImage
	if len(st.Image) > 0 {
		var err error
		if img, err = decodeImage(st.Image); err != nil {
			return nil, Ref{}, err
		}
	}
	content, res, err := u.drawStamp(w, h, text, img)
	if err != nil {
		return nil, Ref{}, err
	}
	// Visual to user space: the rect's corners, and the appearance turned
	// so that it reads upright once the page is turned for display.
	ux0, uy0 := toUser(pg, x, y)
	ux1, uy1 := toUser(pg, x+w, y+h)
	rect := Array{Real(min(ux0, ux1)), Real(min(uy0, uy1)), Real(max(ux0, ux1)), Real(max(uy0, uy1))}
	form := Dict{
		"Type":      Name("XObject"),
		"Subtype":   Name("Form"),
		"BBox":      Array{int64(0), int64(0), Real(w), Real(h)},
		"Resources": res,
	}
	switch pg.rotate {
	case 90:
		form["Matrix"] = Array{int64(0), int64(1), int64(-1), int64(0), int64(0), int64(0)}
	case 180:
		form["Matrix"] = Array{int64(-1), int64(0), int64(0), int64(-1), int64(0), int64(0)}
	case 270:
		form["Matrix"] = Array{int64(0), int64(-1), int64(1), int64(0), int64(0), int64(0)}
	}
	ap := u.alloc()
	u.put(ap, flateStream(form, content))
	return rect, ap, nil
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// toUser maps a point of the displayed page to user space.
func toUser(pg *page, dx, dy float64) (float64, float64) {
	c := pg.crop
	switch pg.rotate {
	case 90:
		return c[2] - dy, c[1] + dx
	case 180:
		return c[2] - dx, c[3] - dy
	case 270:
		return c[0] + dy, c[3] - dx
	}
	return c[0] + dx, c[1] + dy
}

// line is one laid-out line of text: its glyphs and width at size 1.
type line struct {
	glyphs []uint16
	width  float64
}

// layout wraps text to width at font size fs.
func layout(f *ttf.Font, text string, width, fs float64) []line {
	var out []line
	em := float64(f.UnitsPerEm)
	adv := func(g uint16) float64 { return float64(f.Advance(g)) / em * fs }
	for _, para := range strings.Split(text, "\n") {
		para = strings.TrimRightFunc(para, unicode.IsSpace)
		var cur line
		lastSpace := -1 // index in cur.glyphs of the last space, for wrapping
		var widthAtSpace float64
		for _, r := range para {
			if r == '\t' {
				r = ' '
			}
			if unicode.IsControl(r) {
				continue
			}
			g := f.GlyphIndex(r)
			a := adv(g)
			if cur.width+a > width && len(cur.glyphs) > 0 && r != ' ' {
				if lastSpace > 0 {
					// Break at the last space: the word moves down.
					rest := append([]uint16(nil), cur.glyphs[lastSpace+1:]...)
					out = append(out, line{glyphs: cur.glyphs[:lastSpace], width: widthAtSpace})
					cur = line{glyphs: rest}
					for _, x := range rest {
						cur.width += adv(x)
					}
				} else {
					out = append(out, cur) // a word longer than the line: cut
					cur = line{}
				}
				lastSpace = -1
			}
			if r == ' ' {
				if len(cur.glyphs) == 0 {
					continue // no space at the start of a wrapped line
				}
				lastSpace, widthAtSpace = len(cur.glyphs), cur.width
			}
			cur.glyphs = append(cur.glyphs, g)
			cur.width += a
		}
		out = append(out, cur)
	}
	return out
}

// drawStamp makes the appearance's content stream and resources for a
// w×h box.
func (u *update) drawStamp(w, h float64, text string, img *stampImage) ([]byte, Dict, error) {
	f, err := ttf.Default()
	if err != nil {
		return nil, nil, err
	}
	text = clipText(norm.NFC.String(text), maxStampText)
	var c bytes.Buffer
	res := Dict{"ProcSet": Array{Name("PDF"), Name("Text"), Name("ImageC"), Name("ImageB")}}
	fmt.Fprintf(&c, "q\n%s RG 0.6 w\n0.3 0.3 %s %s re S\n", stampColor, fnum(w-0.6), fnum(h-0.6))
	tx := padding + 1.0
	if img != nil {
		// The image left of the text, as tall as the box allows and at most
		// 40% of its width, aspect kept, centred vertically.
		bw, bh := w*0.4, h-2*padding-2
		s := min(bw/float64(img.w), bh/float64(img.h))
		iw, ih := float64(img.w)*s, float64(img.h)*s
		ref, err := u.putImage(img)
		if err != nil {
			return nil, nil, err
		}
		res["XObject"] = Dict{"Im1": ref}
		fmt.Fprintf(&c, "q %s 0 0 %s %s %s cm /Im1 Do Q\n", fnum(iw), fnum(ih), fnum(padding+1), fnum((h-ih)/2))
		tx += iw + padding
	}
	tw, th := w-tx-padding-1, h-2*padding-2
	if tw < 4 {
		return c.Bytes(), res, nil // no room for text
	}
	// Each line on one line if that keeps the type readable (at least
	// noWrapMin); else the largest size at which the wrapped text fits;
	// else the smallest, with the lines that fit and an ellipsis.
	fs := float64(MaxFontSize)
	unwrapped := layout(f, text, 1e9, 1)
	for _, l := range unwrapped {
		if l.width > 0 {
			fs = min(fs, tw/l.width)
		}
	}
	fs = min(fs, th/(float64(len(unwrapped))*lineHeight))
	fs = float64(int(fs*4)) / 4 // quarter points
	var lines []line
	if fs >= noWrapMin {
		lines = layout(f, text, tw, fs)
	} else {
		for fs = MaxFontSize; ; fs -= 0.25 {
			lines = layout(f, text, tw, fs)
			if float64(len(lines))*fs*lineHeight <= th || fs <= MinFontSize {
				break
			}
		}
	}
	maxLines := int(th / (fs * lineHeight))
	if maxLines < 1 {
		maxLines = 1
	}
	if len(lines) > maxLines {
		lines = lines[:maxLines]
		last := &lines[maxLines-1]
		ell := f.GlyphIndex('…')
		em := float64(f.UnitsPerEm)
		ew := float64(f.Advance(ell)) / em * fs
		for len(last.glyphs) > 0 && last.width+ew > tw {
			g := last.glyphs[len(last.glyphs)-1]
			last.glyphs = last.glyphs[:len(last.glyphs)-1]
			last.width -= float64(f.Advance(g)) / em * fs
		}
		last.glyphs = append(last.glyphs, ell)
		last.width += ew
	}
	used := map[uint16]rune{}
	for _, l := range lines {
		for _, g := range l.glyphs {
			used[g] = 0
		}
	}
	fontRef, err := u.putFont(f, text, used)
	if err != nil {
		return nil, nil, err
	}
	res["Font"] = Dict{"F1": fontRef}
	// Vertically centred block; the first baseline one ascent below its top.
	block := float64(len(lines)) * fs * lineHeight
	top := (h + block) / 2
	asc := float64(f.Ascent) / float64(f.UnitsPerEm) * fs
	desc := -float64(f.Descent) / float64(f.UnitsPerEm) * fs
	base := top - (fs*lineHeight-(asc+desc))/2 - asc
	fmt.Fprintf(&c, "BT\n%s rg\n/F1 %s Tf\n%s TL\n%s %s Td\n", stampColor, fnum(fs), fnum(fs*lineHeight), fnum(tx), fnum(base))
	for i, l := range lines {
		if i > 0 {
			c.WriteString("T*\n")
		}
		c.WriteByte('<')
		for _, g := range l.glyphs {
			fmt.Fprintf(&c, "%04X", g)
		}
		c.WriteString("> Tj\n")
	}
	c.WriteString("ET\nQ\n")
	return c.Bytes(), res, nil
}

func fnum(f float64) string { return string(appendReal(nil, f)) }

// flateStream is a new stream with its data Flate-compressed.
func flateStream(d Dict, data []byte) *Stream {
	var b bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&b, zlib.BestCompression)
	zw.Write(data)
	zw.Close()
	d["Filter"] = Name("FlateDecode")
	return &Stream{Dict: d, Raw: b.Bytes()}
}

// putFont embeds the subset of f with the used glyphs as a Type0 font
// (CIDFontType2, Identity-H, identity CIDToGIDMap) with a ToUnicode CMap,
// so that the stamp's text can be copied and searched.
func (u *update) putFont(f *ttf.Font, text string, used map[uint16]rune) (Ref, error) {
	// Which character each glyph stands for, from the text itself.
	for _, r := range text {
		if g := f.GlyphIndex(r); g != 0 {
			if _, ok := used[g]; ok && used[g] == 0 {
				used[g] = r
			}
		}
	}
	if g := f.GlyphIndex('…'); used[g] == 0 {
		if _, ok := used[g]; ok {
			used[g] = '…'
		}
	}
	gids := make([]uint16, 0, len(used))
	for g := range used {
		gids = append(gids, g)
	}
	slices.Sort(gids)
	sub, err := f.Subset(gids)
	if err != nil {
		return Ref{}, err
	}
	// The subset tag: six capitals from the glyph set (ISO 32000 §9.6.4).
	hs := sha256.Sum256([]byte(fmt.Sprint(gids)))
	var tag [6]byte
	for i := range tag {
		tag[i] = 'A' + hs[i]%26
	}
	name := Name(string(tag[:]) + "+" + f.PostScriptName)
	scale := func(v int) int64 { return int64(v * 1000 / f.UnitsPerEm) }
	file := u.alloc()
	fs := flateStream(Dict{"Length1": int64(len(sub))}, sub)
	u.put(file, fs)
	desc := u.alloc()
	u.put(desc, Dict{
		"Type":        Name("FontDescriptor"),
		"FontName":    name,
		"Flags":       int64(32), // nonsymbolic
		"FontBBox":    Array{scale(f.BBox[0]), scale(f.BBox[1]), scale(f.BBox[2]), scale(f.BBox[3])},
		"ItalicAngle": int64(0),
		"Ascent":      scale(f.Ascent),
		"Descent":     scale(f.Descent),
		"CapHeight":   scale(f.CapHeight),
		"StemV":       int64(80),
		"FontFile2":   file,
	})
	var widths Array
	for _, g := range gids {
		widths = append(widths, int64(g), Array{scale(f.Advance(g))})
	}
	cid := u.alloc()
	u.put(cid, Dict{
		"Type":           Name("Font"),
		"Subtype":        Name("CIDFontType2"),
		"BaseFont":       name,
		"CIDSystemInfo":  Dict{"Registry": String("Adobe"), "Ordering": String("Identity"), "Supplement": int64(0)},
		"FontDescriptor": desc,
		"W":              widths,
		"CIDToGIDMap":    Name("Identity"),
	})
	tu := u.alloc()
	u.put(tu, flateStream(Dict{}, toUnicode(gids, used)))
	font := u.alloc()
	u.put(font, Dict{
		"Type":            Name("Font"),
		"Subtype":         Name("Type0"),
		"BaseFont":        name,
		"Encoding":        Name("Identity-H"),
		"DescendantFonts": Array{cid},
		"ToUnicode":       tu,
	})
	return font, nil
}

// toUnicode is a CMap from the 2-byte glyph codes to the characters.
func toUnicode(gids []uint16, chars map[uint16]rune) []byte {
	var b bytes.Buffer
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n" +
		"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n" +
		"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	var entries []string
	for _, g := range gids {
		r := chars[g]
		if r == 0 {
			continue
		}
		var u16 string
		if r > 0xffff {
			r -= 0x10000
			u16 = fmt.Sprintf("%04X%04X", 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		} else {
			u16 = fmt.Sprintf("%04X", r)
		}
		entries = append(entries, fmt.Sprintf("<%04X> <%s>\n", g, u16))
	}
	for i := 0; i < len(entries); i += 100 {
		chunk := entries[i:min(i+100, len(entries))]
		fmt.Fprintf(&b, "%d beginbfchar\n%sendbfchar\n", len(chunk), strings.Join(chunk, ""))
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	return b.Bytes()
}
