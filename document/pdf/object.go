package pdf

import (
	"slices"
	"strconv"
)

// PDF objects as the reader returns them and the writer takes them:
// nil (null), bool, int64, Real, Name, String, Array, Dict, Ref, *Stream.
type (
	Object any
	Name   string
	String []byte
	Real   float64
	Array  []Object
	Dict   map[Name]Object
	Ref    struct {
		Num uint32
		Gen uint16
	}
)

// Stream is a stream object: its dictionary and its raw (still encoded)
// data, a slice of the document's bytes.
type Stream struct {
	Dict Dict
	Raw  []byte
}

// num is a number object as float64 (int64 or Real), ok false otherwise.
func num(o Object) (float64, bool) {
	switch v := o.(type) {
	case int64:
		return float64(v), true
	case Real:
		return float64(v), true
	}
	return 0, false
}

// appendObject writes o in PDF syntax.
func appendObject(b []byte, o Object) []byte {
	switch v := o.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, v)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case Real:
		return appendReal(b, float64(v))
	case float64:
		return appendReal(b, v)
	case Name:
		return appendName(b, v)
	case String:
		return appendString(b, v)
	case Ref:
		b = strconv.AppendUint(b, uint64(v.Num), 10)
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(v.Gen), 10)
		return append(b, " R"...)
	case Array:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ' ')
			}
			b = appendObject(b, e)
		}
		return append(b, ']')
	case Dict:
		b = append(b, "<<"...)
		keys := make([]Name, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys) // deterministic output
		for _, k := range keys {
			b = append(b, ' ')
			b = appendName(b, k)
			b = append(b, ' ')
			b = appendObject(b, v[k])
		}
		return append(b, " >>"...)
	case *Stream:
		// Only new streams are written; their Raw is final and /Length set.
		d := Dict{}
		for k, x := range v.Dict {
			d[k] = x
		}
		d["Length"] = int64(len(v.Raw))
		b = appendObject(b, d)
		b = append(b, "\nstream\n"...)
		b = append(b, v.Raw...)
		return append(b, "\nendstream"...)
	}
	panic("pdf: appendObject of an unknown type") // a bug in this package, never input
}

// appendReal writes a real without exponent (PDF has none), at most 4
// decimals (enough for points; PDF readers keep about 5 significant
// digits of fraction).
func appendReal(b []byte, f float64) []byte {
	if f > -1e15 && f < 1e15 && f == float64(int64(f)) {
		return strconv.AppendInt(b, int64(f), 10)
	}
	s := strconv.FormatFloat(f, 'f', 4, 64)
	// Trim trailing zeros of the fraction.
	for len(s) > 0 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	if s == "-0" || s == "" {
		s = "0"
	}
	return append(b, s...)
}

func isRegular(c byte) bool {
	return c > 0x20 && c < 0x7f && !isDelimiter(c) && c != '#'
}

func appendName(b []byte, n Name) []byte {
	b = append(b, '/')
	for i := 0; i < len(n); i++ {
		c := n[i]
		if isRegular(c) {
			b = append(b, c)
		} else {
			b = append(b, '#', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return b
}

const hexDigits = "0123456789ABCDEF"

// appendString writes a string literal, or a hex string when most of it
// is not printable ASCII (binary IDs, UTF-16).
func appendString(b []byte, s String) []byte {
	odd := 0
	for _, c := range s {
		if c < 0x20 || c > 0x7e {
			odd++
		}
	}
	if odd*4 > len(s) {
		b = append(b, '<')
		for _, c := range s {
			b = append(b, hexDigits[c>>4], hexDigits[c&15])
		}
		return append(b, '>')
	}
	b = append(b, '(')
	for _, c := range s {
		switch {
		case c == '(' || c == ')' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c > 0x7e:
			b = append(b, '\\', '0'+(c>>6), '0'+(c>>3)&7, '0'+c&7)
		default:
			b = append(b, c)
		}
	}
	return append(b, ')')
}
