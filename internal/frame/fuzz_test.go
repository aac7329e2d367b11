package frame

// Fuzz targets of issue 8 (docs/fuzzing.md).

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"
)

// countingReader counts the bytes Read takes from the stream.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func header(n uint32) []byte {
	var h [4]byte
	binary.LittleEndian.PutUint32(h[:], n)
	return h[:]
}

// FuzzRead reads frames from an arbitrary stream under an arbitrary limit:
// no body is longer than the limit, each body is the bytes the stream holds
// for it, an oversized length fails with ErrTooLarge before any body byte
// is read, and the stream ends with io.EOF only between frames.
func FuzzRead(f *testing.F) {
	f.Add([]byte{}, int64(Max))
	f.Add([]byte{1, 2}, int64(Max))
	f.Add([]byte{0, 0, 0x20, 0, '{'}, int64(Max))
	f.Add([]byte{5, 0, 0, 0, '{'}, int64(Max))
	f.Add(append(header(7), `{"a":1}`...), int64(Max))
	f.Add(append(append(header(7), `{"a":1}`...), append(header(0), header(3)...)...), int64(6))
	f.Add(header(0xffffffff), int64(Max))
	f.Add(header(0xffffffff), int64(-1))
	f.Add(append(header(2), "{}"...), int64(1<<32+1))
	f.Fuzz(func(t *testing.T, stream []byte, limit int64) {
		lim := int(limit)
		r := &countingReader{r: bytes.NewReader(stream)}
		off := 0
		for {
			rest := stream[off:]
			if len(rest) >= 4 && binary.LittleEndian.Uint32(rest) > 1<<21 && int64(binary.LittleEndian.Uint32(rest)) <= int64(lim) {
				return // a length the caller's limit allows: Read would allocate it, rightly
			}
			before := r.n
			msg, err := Read(r, lim)
			if err == nil {
				if int64(len(msg)) > int64(lim) || len(rest) < 4+len(msg) ||
					binary.LittleEndian.Uint32(rest) != uint32(len(msg)) || !bytes.Equal(msg, rest[4:4+len(msg)]) {
					t.Fatalf("limit %d: read %d bytes %q from %q", lim, len(msg), msg, rest)
				}
				off += 4 + len(msg)
				continue
			}
			switch {
			case err == io.EOF:
				if len(rest) != 0 {
					t.Fatalf("io.EOF with %d bytes left", len(rest))
				}
			case len(rest) < 4:
				if errors.Is(err, ErrTooLarge) {
					t.Fatalf("truncated length: %v", err)
				}
			case int64(binary.LittleEndian.Uint32(rest)) > int64(lim):
				if !errors.Is(err, ErrTooLarge) || r.n-before != 4 {
					t.Fatalf("length %d over limit %d: %v after reading %d bytes",
						binary.LittleEndian.Uint32(rest), lim, err, r.n-before)
				}
			default:
				if errors.Is(err, ErrTooLarge) || len(rest)-4 >= int(binary.LittleEndian.Uint32(rest)) {
					t.Fatalf("length %d within limit %d and %d body bytes: %v",
						binary.LittleEndian.Uint32(rest), lim, len(rest)-4, err)
				}
			}
			return
		}
	})
}

// recordWriter keeps what each Write call got.
type recordWriter struct{ calls [][]byte }

func (w *recordWriter) Write(p []byte) (int, error) {
	w.calls = append(w.calls, append([]byte(nil), p...))
	return len(p), nil
}

// FuzzWriteRead: Write sends a message of at most Max bytes as one frame
// in one Write call, and Read gives it back; a larger one is refused
// without writing anything.
func FuzzWriteRead(f *testing.F) {
	for _, m := range []string{`{"a":1}`, ``, `{"b":"ký số"}`, "\x00\xff\x01\x00\x00\x00"} {
		f.Add([]byte(m))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		var w recordWriter
		err := Write(&w, msg)
		if len(msg) > Max {
			if !errors.Is(err, ErrTooLarge) || len(w.calls) != 0 {
				t.Fatalf("%d bytes: %v, %d writes", len(msg), err, len(w.calls))
			}
			return
		}
		if err != nil || len(w.calls) != 1 || len(w.calls[0]) != 4+len(msg) {
			t.Fatalf("Write: %v, %d calls", err, len(w.calls))
		}
		r := bytes.NewReader(w.calls[0])
		got, err := Read(r, Max)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("Read = %q, %v; want %q", got, err, msg)
		}
		if _, err := Read(r, Max); err != io.EOF {
			t.Fatalf("Read after the frame: %v", err)
		}
		if len(msg) > 0 {
			if _, err := Read(bytes.NewReader(w.calls[0]), len(msg)-1); !errors.Is(err, ErrTooLarge) {
				t.Fatalf("limit %d: %v", len(msg)-1, err)
			}
		}
	})
}

// TestReadHugeLengthNoAlloc: a length over the limit is refused before
// anything of that size is allocated (a peer claiming 4 GiB must cost
// nothing), whatever limit the caller passes.
func TestReadHugeLengthNoAlloc(t *testing.T) {
	for _, limit := range []int{Max, 0, -1} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := 0; i < 20; i++ {
			_, err := Read(bytes.NewReader(header(0xfffffff0)), limit)
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("limit %d: a 4 GiB length gave %v", limit, err)
			}
		}
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
			t.Fatalf("limit %d: 20 refused frames allocated %d bytes", limit, grew)
		}
	}
}
