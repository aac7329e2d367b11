package host

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"kyso.vn/kyso/internal/frame"
)

// A browser takes at most 1 MiB (frame.Max) in one message from a host. A
// larger answer (a signed document) goes as parts {"id", "part": i,
// "parts": n, "data": "…"}, whose data pieces joined in order are the
// answer's JSON text; the extension's background joins them before the
// page sees one response (docs/protocol.md, "Large answers"; its joiner is
// extension/src/background.js).

// partRoom is what a part's own keys may take besides its data: the id (at
// most protocol.MaxID characters, each at most 6 bytes as JSON writes it)
// and two numbers of at most 4 digits, with room to spare.
const partRoom = 1024

// maxParts is the background's MAX_PARTS.
const maxParts = 4096

// writeAnswer writes resp to out as one frame when it fits, else as parts.
func writeAnswer(out io.Writer, id string, resp []byte) error {
	if len(resp) <= frame.Max {
		return frame.Write(out, resp)
	}
	parts := Parts(id, resp)
	for _, p := range parts {
		if err := frame.Write(out, p); err != nil {
			return err
		}
	}
	return nil
}

// Parts cuts resp, the JSON text of the response to request id, into part
// messages of at most frame.Max bytes each as sent: the text is cut
// between characters, never inside one, and each piece sized by its
// escaped length. Exported for the tests of other packages (the e2e tests
// feed them to the real extension).
func Parts(id string, resp []byte) [][]byte {
	qid, _ := json.Marshal(id)
	// The cut points first: part 0 names how many there are.
	room := frame.Max - partRoom
	var cuts []int // start of each piece
	size := room   // escaped bytes of the current piece; room forces a first cut
	for i := 0; i < len(resp); {
		r, w := utf8.DecodeRune(resp[i:])
		if e := escapedLen(r, w); size+e > room {
			cuts = append(cuts, i)
			size = 0
		}
		size += escapedLen(r, w)
		i += w
	}
	if len(cuts) == 0 {
		cuts = []int{0}
	}
	n := len(cuts)
	if n > maxParts {
		// Cannot happen under protocol.MaxAnswer (96 MiB escaped at most
		// 6 times over is under 4096 parts of ~1 MiB); the background
		// would refuse it.
		panic(fmt.Sprintf("host: an answer of %d bytes in %d parts", len(resp), n))
	}
	out := make([][]byte, 0, n)
	for k, start := range cuts {
		end := len(resp)
		if k+1 < n {
			end = cuts[k+1]
		}
		b := make([]byte, 0, frame.Max)
		b = append(b, `{"id":`...)
		b = append(b, qid...)
		b = append(b, `,"part":`...)
		b = strconv.AppendInt(b, int64(k), 10)
		b = append(b, `,"parts":`...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, `,"data":"`...)
		b = appendEscaped(b, resp[start:end])
		b = append(b, `"}`...)
		out = append(out, b)
	}
	return out
}

// escapedLen is the length of rune r (w bytes of UTF-8) inside a JSON
// string as appendEscaped writes it.
func escapedLen(r rune, w int) int {
	switch {
	case r == '"' || r == '\\':
		return 2
	case r < 0x20:
		return 6 // \u00XX
	case r == utf8.RuneError && w == 1:
		return 6 // \ufffd: not UTF-8, which the engine never writes
	}
	return w
}

// appendEscaped appends s as the inside of a JSON string: quote,
// backslash and control characters escaped, everything else as it is.
func appendEscaped(b, s []byte) []byte {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRune(s[i:])
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xf])
		case r == utf8.RuneError && w == 1:
			b = append(b, `\ufffd`...)
		default:
			b = append(b, s[i:i+w]...)
		}
		i += w
	}
	return b
}
