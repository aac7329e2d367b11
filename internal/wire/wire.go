// Package wire is the local socket's protocol between `kyso host` and the
// agent (and `kyso status` and `kyso uninstall`): frames of internal/frame, each a small binary
// header and a body. A request's body is the page's request as the
// extension sent it, untouched — the agent's engine reads it, once — and an
// answer's body is the engine's response as it wrote it, which the host
// passes on to the browser. The relay's tag, not the page's id (which pages
// choose and may reuse), matches an answer to its request.
//
// A Kyso of another version (before this framing, or of another Version)
// speaks otherwise: the host checks with Hello first and runs the engine
// itself when the agent does not answer in kind.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"

	"kyso.vn/kyso/protocol"
)

// Version is this framing's version, exchanged in Hello.
const Version = 1

// Kinds of message, the first byte of a frame.
const (
	Hello   = 'h' // both ways: [h][version]
	Request = 'r' // host → agent: [r][tag 8][origin length 4][origin][request]
	Stats   = 's' // status → agent: [s][tag 8]; the answer's body is agent.Stats
	Quit    = 'q' // uninstall → agent: [q][tag 8]; an empty answer, then the agent stops
	Answer  = 'a' // agent → host: [a][tag 8][body]
	// Progress: agent → host, [p][tag 8][body]: a progress message of the
	// request with that tag (the page's message as the engine wrote it),
	// sent before its answer.
	Progress = 'p'
)

// MaxFrame bounds a frame on the local socket either way: an answer of at
// most protocol.MaxAnswer (a signed document) with its header. A request
// is smaller (the agent reads it under MaxRequestFrame).
const MaxFrame = protocol.MaxAnswer + 64

// MaxRequestFrame bounds a request frame: a document operation's request
// (protocol.MaxDocumentMessage) with its header and an origin, whose
// length the extension's envelope bounds by the same MaxMessage of room
// the host leaves for it.
const MaxRequestFrame = protocol.MaxDocumentMessage + protocol.MaxMessage

// Message is one frame's content.
type Message struct {
	Kind   byte
	Tag    uint64 // Request, Stats, Quit, Answer, Progress: chosen by the asker, echoed in the answer
	Origin string // Request: as the host established it
	Body   []byte // Request: the page's request; Answer: the response; Hello: the version
}

// ErrOtherVersion: the peer is a Kyso that frames otherwise (a JSON frame
// from before this framing, or a Hello of another version).
var ErrOtherVersion = errors.New("wire: the other side is another version of Kyso")

// Append appends m's frame content to b.
func Append(b []byte, m Message) []byte {
	b = append(b, m.Kind)
	switch m.Kind {
	case Hello:
		return append(b, Version)
	case Request:
		b = binary.BigEndian.AppendUint64(b, m.Tag)
		b = binary.BigEndian.AppendUint32(b, uint32(len(m.Origin)))
		b = append(b, m.Origin...)
	case Stats, Quit, Answer, Progress:
		b = binary.BigEndian.AppendUint64(b, m.Tag)
	}
	return append(b, m.Body...)
}

// Parse reads a frame's content. Body and Origin point into msg.
func Parse(msg []byte) (Message, error) {
	if len(msg) == 0 {
		return Message{}, errors.New("wire: empty message")
	}
	if msg[0] == '{' {
		return Message{}, ErrOtherVersion
	}
	m := Message{Kind: msg[0]}
	rest := msg[1:]
	switch m.Kind {
	case Hello:
		if len(rest) != 1 || rest[0] != Version {
			return m, ErrOtherVersion
		}
		m.Body = rest
		return m, nil
	case Request, Stats, Quit, Answer, Progress:
		if len(rest) < 8 {
			return m, fmt.Errorf("wire: %q message of %d bytes", m.Kind, len(msg))
		}
		m.Tag, rest = binary.BigEndian.Uint64(rest), rest[8:]
	default:
		return m, fmt.Errorf("wire: unknown message kind %q", m.Kind)
	}
	if m.Kind == Request {
		if len(rest) < 4 || uint64(binary.BigEndian.Uint32(rest)) > uint64(len(rest)-4) {
			return m, errors.New("wire: request with a broken origin")
		}
		n := binary.BigEndian.Uint32(rest)
		m.Origin, rest = string(rest[4:4+n]), rest[4+n:]
	}
	if (m.Kind == Stats || m.Kind == Quit) && len(rest) != 0 {
		return m, fmt.Errorf("wire: %q question with a body", m.Kind)
	}
	m.Body = rest
	return m, nil
}
