package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"sync/atomic"
	"unicode/utf8"

	"kyso.vn/kyso/internal/logging"
	"kyso.vn/kyso/protocol"
)

// The memory budget (DESIGN.md, "Document operations": many large requests
// at once get BUSY, not an out-of-memory agent). A request larger than
// protocol.MaxMessage (a document: signPdf, signCms, signXml) is charged
// against one agent-wide budget while it is read and until its answer is
// written; one that would pass the budget is answered BUSY, its bytes read
// and dropped unheld. Small requests are not charged: the connection caps
// and the in-flight cap bound them.
//
// chargeFactor: a request's bytes are charged four times over, because
// answering it holds about that much: the message itself, the document
// decoded from its base64, the signed document, and the answer encoded
// again (docs/agent.md, "Limits"). DefaultMemoryBudget, 512 MiB of such
// charges, lets two 64 MiB documents be signed at once, or sixteen of
// 8 MiB; with one dialog at a time (DESIGN: BUSY) no person signs more in
// parallel, and a page that sends many large requests gets BUSY for the
// rest instead of making the agent hold gigabytes.
const (
	chargeFactor        = 4
	DefaultMemoryBudget = 512 << 20
)

// budget counts the charges of large requests in flight, agent-wide.
type budget struct {
	max  int64
	used atomic.Int64
}

// take charges n bytes, or reports false (nothing charged) when that would
// pass the budget.
func (b *budget) take(n int64) bool {
	for {
		u := b.used.Load()
		if u+n > b.max {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

// give returns n bytes taken before.
func (b *budget) give(n int64) { b.used.Add(-n) }

// errOverBudget: the message was read and dropped, the budget is full.
var errOverBudget = errors.New("agent: memory budget for large requests reached")

// readMessage reads one WebSocket message. Up to protocol.MaxMessage it
// costs nothing; past it, each growth of the buffer is charged to the
// budget (chargeFactor per byte of capacity) before it is allocated, so a
// message the budget cannot hold is never buffered whole: errOverBudget,
// with the rest of the message read and dropped unheld. charged is what
// the caller gives back when the answer is written. The connection's read
// limit (gorilla's) bounds the message at protocol.MaxDocumentMessage.
func (b *budget) readMessage(r io.Reader) (msg []byte, charged int64, err error) {
	msg, err = io.ReadAll(io.LimitReader(r, protocol.MaxMessage+1))
	if err != nil || len(msg) <= protocol.MaxMessage {
		return msg, 0, err
	}
	// A refused message's first bytes are returned with the error (where
	// its id is when the page wrote it first), the rest read and dropped.
	refuse := func(why error) ([]byte, int64, error) {
		b.give(charged)
		head := bytes.Clone(msg[:min(len(msg), headBytes)])
		msg = nil
		_, err := io.Copy(io.Discard, r)
		return head, 0, errors.Join(why, err)
	}
	if charged = int64(cap(msg)) * chargeFactor; !b.take(charged) {
		charged = 0
		return refuse(errOverBudget)
	}
	// Grown by half each time, not doubled: the capacity is what is
	// charged and held, and a doubled buffer would hold up to twice the
	// message. The buffers left behind are garbage.
	for c := cap(msg); ; {
		if len(msg) == c {
			if c >= protocol.MaxDocumentMessage {
				// Full at the limit: the message must end here.
				var one [1]byte
				if n, err := io.ReadFull(r, one[:]); n > 0 || err != io.EOF {
					return refuse(errors.Join(errTooLarge, err))
				}
				return msg, charged, nil
			}
			c = min(c+c/2, protocol.MaxDocumentMessage)
			add := int64(c-cap(msg)) * chargeFactor
			if !b.take(add) {
				return refuse(errOverBudget)
			}
			charged += add
			m := make([]byte, len(msg), c)
			copy(m, msg)
			msg = m
		}
		n, rerr := r.Read(msg[len(msg):c])
		msg = msg[:len(msg)+n]
		if rerr == io.EOF {
			return msg, charged, nil
		}
		if rerr != nil {
			b.give(charged)
			return nil, 0, rerr
		}
	}
}

// errTooLarge: past the document limit. gorilla's read limit fails the
// read before; kept so that readMessage holds for any reader.
var errTooLarge = errors.New("agent: message larger than the document limit")

// headBytes of a refused message are kept for its id: ample for
// {"id": "…"} with an id of protocol.MaxID characters, escaped.
const headBytes = 4096

// prefixID is the id of a message of which only the first bytes are at
// hand, "" unless the message begins with its "id" key (as kyso.js and
// the extension write requests), so that a refusal of a message the agent
// did not keep still reaches the page's pending request.
func prefixID(head []byte) string {
	d := json.NewDecoder(bytes.NewReader(head))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	if t, err := d.Token(); err != nil || t != "id" {
		return ""
	}
	t, err := d.Token()
	id, ok := t.(string)
	if err != nil || !ok {
		return ""
	}
	// The same rule as a whole request's id (protocol.RequestID).
	if n := utf8.RuneCountInString(id); n < 1 || n > protocol.MaxID {
		return ""
	}
	return id
}

// logOverBudget logs a large request refused for the budget, at most once
// a minute per origin (a page could send them in a loop).
func (a *Agent) logOverBudget(origin string, head int) {
	if ok, dropped := a.logs.allow("over budget\x00" + origin); ok {
		a.o.Log.Warn().Str("origin", logging.Truncate(origin, 200)).Int64("budget", a.budget.max).
			Int64("inUse", a.budget.used.Load()).Int("alsoRefusedSinceLastLine", dropped).
			Msg("large request refused: memory budget reached (BUSY)")
	}
}
