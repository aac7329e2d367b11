package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Limits of the parser: input is hostile (the engine caps it at 64 MiB).
const (
	maxDepth = 64 // nesting of arrays and dictionaries
	// maxElements bounds the array elements and dictionary entries one
	// document may make the parser allocate across every object read.
	maxElements = 4 << 20
)

var errSyntax = errors.New("syntax error")

func isWhite(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isDelimiter(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

// lexer reads objects from b starting at pos.
type lexer struct {
	b        []byte
	pos      int
	elements *int // shared budget of maxElements
}

func (l *lexer) errorf(format string, a ...any) error {
	return fmt.Errorf("at byte %d: %s", l.pos, fmt.Sprintf(format, a...))
}

// skip passes white space and comments.
func (l *lexer) skip() {
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		if isWhite(c) {
			l.pos++
			continue
		}
		if c == '%' {
			for l.pos < len(l.b) && l.b[l.pos] != '\n' && l.b[l.pos] != '\r' {
				l.pos++
			}
			continue
		}
		return
	}
}

// keyword reads a run of regular characters (after skipping white space).
func (l *lexer) keyword() string {
	l.skip()
	start := l.pos
	for l.pos < len(l.b) && !isWhite(l.b[l.pos]) && !isDelimiter(l.b[l.pos]) {
		l.pos++
	}
	return string(l.b[start:l.pos])
}

// expect reads keyword kw or fails.
func (l *lexer) expect(kw string) error {
	at := l.pos
	if k := l.keyword(); k != kw {
		l.pos = at
		return l.errorf("%q expected", kw)
	}
	return nil
}

// uint reads an unsigned decimal integer token (no sign, no dot).
func (l *lexer) uint() (int64, bool) {
	l.skip()
	start := l.pos
	for l.pos < len(l.b) && l.b[l.pos] >= '0' && l.b[l.pos] <= '9' {
		l.pos++
	}
	if l.pos == start || l.pos-start > 18 ||
		(l.pos < len(l.b) && !isWhite(l.b[l.pos]) && !isDelimiter(l.b[l.pos])) {
		l.pos = start
		return 0, false
	}
	n, err := strconv.ParseInt(string(l.b[start:l.pos]), 10, 64)
	return n, err == nil
}

// object reads one object. "n g R" is read as a Ref.
func (l *lexer) object(depth int) (Object, error) {
	if depth > maxDepth {
		return nil, l.errorf("objects nested deeper than %d", maxDepth)
	}
	l.skip()
	if l.pos >= len(l.b) {
		return nil, l.errorf("unexpected end of data")
	}
	switch c := l.b[l.pos]; {
	case c == '/':
		return l.name()
	case c == '(':
		return l.literal()
	case c == '<':
		if l.pos+1 < len(l.b) && l.b[l.pos+1] == '<' {
			return l.dict(depth)
		}
		return l.hex()
	case c == '[':
		l.pos++
		var a Array
		for {
			l.skip()
			if l.pos >= len(l.b) {
				return nil, l.errorf("unterminated array")
			}
			if l.b[l.pos] == ']' {
				l.pos++
				return a, nil
			}
			if err := l.spend(); err != nil {
				return nil, err
			}
			o, err := l.object(depth + 1)
			if err != nil {
				return nil, err
			}
			a = append(a, o)
		}
	case c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9'):
		return l.number()
	default:
		at := l.pos
		switch k := l.keyword(); k {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		case "":
			l.pos = at
			return nil, l.errorf("unexpected %q", c)
		default:
			l.pos = at
			return nil, l.errorf("unexpected keyword %q", clip(k))
		}
	}
}

func clip(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}

func (l *lexer) spend() error {
	*l.elements++
	if *l.elements > maxElements {
		return l.errorf("more than %d array elements and dictionary entries", maxElements)
	}
	return nil
}

func (l *lexer) dict(depth int) (Object, error) {
	l.pos += 2
	d := Dict{}
	for {
		l.skip()
		if l.pos+1 < len(l.b) && l.b[l.pos] == '>' && l.b[l.pos+1] == '>' {
			l.pos += 2
			return d, nil
		}
		if l.pos >= len(l.b) || l.b[l.pos] != '/' {
			return nil, l.errorf("dictionary key expected")
		}
		k, err := l.name()
		if err != nil {
			return nil, err
		}
		if err := l.spend(); err != nil {
			return nil, err
		}
		v, err := l.object(depth + 1)
		if err != nil {
			return nil, err
		}
		// A repeated key: the first one counts (what most readers do).
		if _, dup := d[k.(Name)]; !dup && v != nil {
			d[k.(Name)] = v // a null value is as if absent
		}
	}
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func (l *lexer) name() (Object, error) {
	l.pos++ // '/'
	start := l.pos
	for l.pos < len(l.b) && !isWhite(l.b[l.pos]) && !isDelimiter(l.b[l.pos]) {
		l.pos++
	}
	raw := l.b[start:l.pos]
	if bytes.IndexByte(raw, '#') < 0 {
		return Name(raw), nil
	}
	var n []byte
	for i := 0; i < len(raw); i++ {
		if raw[i] == '#' && i+2 < len(raw) {
			h, ok1 := unhex(raw[i+1])
			lo, ok2 := unhex(raw[i+2])
			if ok1 && ok2 {
				n = append(n, h<<4|lo)
				i += 2
				continue
			}
		}
		n = append(n, raw[i])
	}
	return Name(n), nil
}

func (l *lexer) hex() (Object, error) {
	l.pos++ // '<'
	var s []byte
	var hi byte
	odd := false
	for ; l.pos < len(l.b); l.pos++ {
		c := l.b[l.pos]
		if c == '>' {
			l.pos++
			if odd {
				s = append(s, hi<<4)
			}
			return String(s), nil
		}
		if isWhite(c) {
			continue
		}
		v, ok := unhex(c)
		if !ok {
			return nil, l.errorf("bad character in hex string")
		}
		if odd {
			s = append(s, hi<<4|v)
		} else {
			hi = v
		}
		odd = !odd
	}
	return nil, l.errorf("unterminated hex string")
}

func (l *lexer) literal() (Object, error) {
	l.pos++ // '('
	var s []byte
	depth := 1
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		l.pos++
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return String(s), nil
			}
		case '\r':
			// An end of line in a literal is a \n, whatever its bytes.
			if l.pos < len(l.b) && l.b[l.pos] == '\n' {
				l.pos++
			}
			c = '\n'
		case '\\':
			if l.pos >= len(l.b) {
				return nil, l.errorf("unterminated string")
			}
			e := l.b[l.pos]
			l.pos++
			switch e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if l.pos < len(l.b) && l.b[l.pos] == '\n' {
					l.pos++
				}
				continue // line continuation
			case '\n':
				continue
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for i := 0; i < 2 && l.pos < len(l.b) && l.b[l.pos] >= '0' && l.b[l.pos] <= '7'; i++ {
						v = v*8 + int(l.b[l.pos]-'0')
						l.pos++
					}
					c = byte(v)
				} else {
					c = e // \( \) \\ and unknown escapes: the character
				}
			}
		}
		s = append(s, c)
	}
	return nil, l.errorf("unterminated string")
}

// number reads an integer or a real; an integer followed by "g R" is a Ref.
func (l *lexer) number() (Object, error) {
	start := l.pos
	neg, signs := false, 0
	// "--5" and "+-5" happen in the wild; readers take them as -5.
	for l.pos < len(l.b) && (l.b[l.pos] == '+' || l.b[l.pos] == '-') {
		neg = neg || l.b[l.pos] == '-'
		signs++
		l.pos++
	}
	body := l.pos
	digits, dot := 0, false
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		if c >= '0' && c <= '9' {
			digits++
		} else if c == '.' && !dot {
			dot = true
		} else {
			break
		}
		l.pos++
	}
	tok := string(l.b[body:l.pos])
	if digits == 0 {
		return nil, l.errorf("bad number %q", clip(string(l.b[start:l.pos])))
	}
	if neg {
		tok = "-" + tok
	}
	if !dot {
		n, err := strconv.ParseInt(tok, 10, 64)
		if err != nil {
			// Too long for int64: a real then (only sizes and IDs are ints).
			f, _ := strconv.ParseFloat(tok, 64)
			return realOf(f), nil
		}
		if signs == 0 && n <= 1<<31 {
			// Maybe "n g R".
			save := l.pos
			if g, ok := l.uint(); ok && g <= 65535 {
				l.skip()
				if l.pos < len(l.b) && l.b[l.pos] == 'R' &&
					(l.pos+1 == len(l.b) || isWhite(l.b[l.pos+1]) || isDelimiter(l.b[l.pos+1])) {
					l.pos++
					return Ref{Num: uint32(n), Gen: uint16(g)}, nil
				}
			}
			l.pos = save
		}
		return n, nil
	}
	f, err := strconv.ParseFloat(tok, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, l.errorf("bad number %q", clip(tok))
	}
	return realOf(f), nil
}

// realOf keeps a number within what PDF can write (no exponent, no
// infinity): ISO 32000-1 Annex C's largest real, ±3.403 × 10^38. Found by
// FuzzLexer: a 300-digit integer read as +Inf was written back as "+Inf".
func realOf(f float64) Real {
	return Real(max(-math.MaxFloat32, min(f, math.MaxFloat32)))
}
