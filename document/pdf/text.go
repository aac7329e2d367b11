package pdf

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// pdfDocEncoding maps the bytes of PDFDocEncoding (ISO 32000-1 Annex D)
// that differ from Latin-1.
var pdfDocEncoding = map[byte]rune{
	0x18: '˘', 0x19: 'ˇ', 0x1a: 'ˆ', 0x1b: '˙', 0x1c: '˝', 0x1d: '˛', 0x1e: '˚', 0x1f: '˜',
	0x80: '•', 0x81: '†', 0x82: '‡', 0x83: '…', 0x84: '—', 0x85: '–', 0x86: 'ƒ', 0x87: '⁄',
	0x88: '‹', 0x89: '›', 0x8a: '−', 0x8b: '‰', 0x8c: '„', 0x8d: '“', 0x8e: '”', 0x8f: '‘',
	0x90: '’', 0x91: '‚', 0x92: '™', 0x93: 'ﬁ', 0x94: 'ﬂ', 0x95: 'Ł', 0x96: 'Œ', 0x97: 'Š',
	0x98: 'Ÿ', 0x99: 'Ž', 0x9a: 'ı', 0x9b: 'ł', 0x9c: 'œ', 0x9d: 'š', 0x9e: 'ž', 0xa0: '€',
}

// decodeText reads a PDF text string: UTF-16BE or UTF-8 (PDF 2.0) with a
// byte order mark, else PDFDocEncoding. Control characters become spaces,
// so what a dialog shows is one clean line.
func decodeText(s String) string {
	var r string
	switch {
	case len(s) >= 2 && s[0] == 0xfe && s[1] == 0xff:
		u := make([]uint16, 0, len(s)/2)
		for i := 2; i+1 < len(s); i += 2 {
			u = append(u, uint16(s[i])<<8|uint16(s[i+1]))
		}
		r = string(utf16.Decode(u))
	case len(s) >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf:
		r = strings.ToValidUTF8(string(s[3:]), "\uFFFD")
	default:
		var b strings.Builder
		for _, c := range s {
			if x, ok := pdfDocEncoding[c]; ok {
				b.WriteRune(x)
			} else {
				b.WriteRune(rune(c))
			}
		}
		r = b.String()
	}
	r = strings.Map(func(c rune) rune {
		if c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) {
			return ' '
		}
		return c
	}, r)
	return strings.TrimSpace(r)
}

// encodeText makes a PDF text string: PDFDocEncoding when s is printable
// ASCII, else UTF-16BE with a byte order mark.
func encodeText(s string) String {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			ascii = false
			break
		}
	}
	if ascii {
		return String(s)
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	out := []byte{0xfe, 0xff}
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u>>8), byte(u))
	}
	return String(out)
}
