package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"runtime"
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
// costs nothing; past it, the message is read in chunks of chunkSize, each
// charged to the budget (chargeFactor per byte) before it is allocated, so
// a message the budget cannot hold is never buffered whole: errOverBudget,
// with the rest of the message read and dropped unheld. The chunks are
// then joined into one buffer of the message's size (what the engine
// reads): a growing buffer would leave garbage of about twice the message
// behind it and hold up to half as much again unused, chunks leave one
// copy. charged is what the caller gives back when the answer is written.
// The connection's read limit (gorilla's) bounds the message at
// protocol.MaxDocumentMessage.
func (b *budget) readMessage(r io.Reader) (msg []byte, charged int64, err error) {
	first, err := io.ReadAll(io.LimitReader(r, protocol.MaxMessage+1))
	if err != nil || len(first) <= protocol.MaxMessage {
		return first, 0, err
	}
	// A refused message's first bytes are returned with the error (where
	// its id is when the page wrote it first), the rest read and dropped.
	refuse := func(why error) ([]byte, int64, error) {
		b.give(charged)
		head := bytes.Clone(first[:headBytes])
		_, err := io.Copy(io.Discard, r)
		return head, 0, errors.Join(why, err)
	}
	if charged = int64(cap(first)) * chargeFactor; !b.take(charged) {
		charged = 0
		return refuse(errOverBudget)
	}
	chunks, total := [][]byte{first}, len(first)
	for {
		if total > protocol.MaxDocumentMessage {
			chunks = nil
			return refuse(errTooLarge)
		}
		if !b.take(chunkSize * chargeFactor) {
			chunks = nil
			return refuse(errOverBudget)
		}
		charged += chunkSize * chargeFactor
		c := make([]byte, chunkSize)
		n, rerr := io.ReadFull(r, c)
		chunks, total = append(chunks, c[:n]), total+n
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			b.give(charged)
			return nil, 0, rerr
		}
	}
	msg = make([]byte, 0, total)
	for _, c := range chunks {
		msg = append(msg, c...)
	}
	// Settled at the message's size: the chunks are garbage now. Collected
	// at once, the document the engine decodes next reuses their memory
	// instead of adding to it (cheap: they are pointer-free, and a large
	// message is a document, one at a time per person).
	chunks = nil
	runtime.GC()
	keep := int64(total) * chargeFactor
	b.give(charged - keep)
	return msg, keep, nil
}

// chunkSize is the unit a large WebSocket message is read and charged in.
const chunkSize = 1 << 20

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
func (a *Agent) logOverBudget(origin string) {
	if ok, dropped := a.logs.allow("over budget\x00" + origin); ok {
		a.o.Log.Warn().Str("origin", logging.Truncate(origin, 200)).Int64("budget", a.budget.max).
			Int64("inUse", a.budget.used.Load()).Int("alsoRefusedSinceLastLine", dropped).
			Msg("large request refused: memory budget reached (BUSY)")
	}
}
