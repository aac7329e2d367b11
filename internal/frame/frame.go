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

// Max is the largest message either side accepts: protocol.MaxMessage,
// which is also Chrome's limit for messages from a host to the browser.
const Max = protocol.MaxMessage

// ErrTooLarge is returned for a frame longer than the limit. The stream is
// unusable after it: the body was not read.
var ErrTooLarge = errors.New("frame: message larger than 1 MiB")

// Read reads one frame of at most limit bytes. It returns io.EOF when the
// stream ends cleanly between frames.
func Read(r io.Reader, limit int) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("frame: truncated length: %w", err)
		}
		return nil, err
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	// Compared in int64: uint32(limit) would turn a negative limit into
	// 4 GiB and one over 4 GiB into a small one.
	if int64(n) > int64(limit) {
		return nil, fmt.Errorf("%w (%d bytes)", ErrTooLarge, n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("frame: truncated body (%d bytes announced): %w", n, err)
	}
	return buf, nil
}

// Write writes msg as one frame of at most Max bytes in a single Write
// call, so frames from several goroutines sharing a writer under a mutex
// never interleave.
func Write(w io.Writer, msg []byte) error { return WriteMax(w, msg, Max) }

// WriteMax is Write with another limit (the agent's local socket adds a
// header to messages of up to Max).
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
