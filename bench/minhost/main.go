// Command minhost is the floor for the native-messaging host's cold start:
// the least a Go program can do to answer the browser's first message. It
// reads one frame (4-byte little-endian length, then the message) from stdin
// and writes a fixed `version` reply in the same framing, then exits. It
// parses nothing and loads nothing; `kyso host` is measured against it.
package main

import (
	"encoding/binary"
	"io"
	"os"
)

const reply = `{"id":"v","ok":true,"result":{"version":"0.0.0-minhost","protocol":1}}`

func main() {
	var hdr [4]byte
	if _, err := io.ReadFull(os.Stdin, hdr[:]); err != nil {
		os.Exit(1)
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	if n > 1<<20 {
		os.Exit(1)
	}
	if _, err := io.CopyN(io.Discard, os.Stdin, int64(n)); err != nil {
		os.Exit(1)
	}
	out := make([]byte, 4+len(reply))
	binary.LittleEndian.PutUint32(out, uint32(len(reply)))
	copy(out[4:], reply)
	if _, err := os.Stdout.Write(out); err != nil {
		os.Exit(1)
	}
}
