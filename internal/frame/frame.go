// Package frame reads and writes length-prefixed messages: a 4-byte length
// in native byte order (little-endian on every platform Kyso ships for)
// followed by that many bytes of JSON. Browsers use it for native messaging,
// and the agent's local socket uses it too so the host can relay frames.
package frame

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"kyso.vn/kyso/protocol"
)

// Max is the largest message a host may send the browser in one frame:
// protocol.MaxMessage, which is Chrome's limit (a larger answer goes as
// parts, docs/protocol.md "Large answers"). Frames the other way, and on
// the agent's local socket, may be larger: their readers pass their limit.
const Max = protocol.MaxMessage

// ErrTooLarge is returned for a frame longer than the limit. The stream is
// unusable after it: the body was not read.
var ErrTooLarge = errors.New("frame: message too large")

// Read reads one frame of at most limit bytes. It returns io.EOF when the
// stream ends cleanly between frames.
func Read(r io.Reader, limit int) ([]byte, error) {
	n, err := ReadLen(r, limit)
	if err != nil {
		return nil, err
	}
	return ReadBody(r, n)
}

// ReadLen reads a frame's length, at most limit, so that a reader can
// decide what to do with a large frame (refuse it, skip it with Skip)
// before allocating for it. It returns io.EOF when the stream ends cleanly
// between frames.
func ReadLen(r io.Reader, limit int) (int, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return 0, fmt.Errorf("frame: truncated length: %w", err)
		}
		return 0, err
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	// Compared in int64: uint32(limit) would turn a negative limit into
	// 4 GiB and one over 4 GiB into a small one.
	if int64(n) > int64(limit) {
		return 0, fmt.Errorf("%w (%d bytes)", ErrTooLarge, n)
	}
	return int(n), nil
}

// ReadBody reads the n bytes of a frame whose length ReadLen returned.
func ReadBody(r io.Reader, n int) ([]byte, error) {
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("frame: truncated body (%d bytes announced): %w", n, err)
	}
	return buf, nil
}

// Skip reads and drops the n bytes of a frame's body (or what is left of
// it) without holding them, so the stream stays in step after a frame
// that is refused unread.
func Skip(r io.Reader, n int) error {
	if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
		return fmt.Errorf("frame: truncated body (%d bytes to skip): %w", n, err)
	}
	return nil
}

// Write writes msg as one frame of at most Max bytes in a single Write
// call, so frames from several goroutines sharing a writer under a mutex
// never interleave.
func Write(w io.Writer, msg []byte) error { return WriteMax(w, msg, Max) }

// WriteMax is Write with another limit (the agent's local socket, whose
// frames carry a header and may hold a document).
func WriteMax(w io.Writer, msg []byte, limit int) error {
	if len(msg) > limit {
		return fmt.Errorf("%w (%d bytes)", ErrTooLarge, len(msg))
	}
	buf := make([]byte, 4+len(msg))
	binary.LittleEndian.PutUint32(buf, uint32(len(msg)))
	copy(buf[4:], msg)
	_, err := w.Write(buf)
	return err
}

// HeaderLen is the length prefix's size: a caller that builds a message in
// place after HeaderLen reserved bytes writes it with WriteReserved.
const HeaderLen = 4

// WriteReserved writes buf[HeaderLen:] as one frame of at most limit
// bytes, filling in buf's first HeaderLen bytes with its length: one Write
// call, as Write, without Write's copy (a signed document's answer is tens
// of megabytes).
func WriteReserved(w io.Writer, buf []byte, limit int) error {
	if len(buf) < HeaderLen {
		return errors.New("frame: no room for the length")
	}
	n := len(buf) - HeaderLen
	if n > limit {
		return fmt.Errorf("%w (%d bytes)", ErrTooLarge, n)
	}
	binary.LittleEndian.PutUint32(buf, uint32(n))
	_, err := w.Write(buf)
	return err
}
