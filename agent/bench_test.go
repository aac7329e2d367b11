package agent

import (
	"context"
	"io"
	"net"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"
)

// The WebSocket front-end's own round trip, with an engine that answers at
// once, against a bare loopback TCP echo (the least any transport can do).
// `go test -run '^$' -bench . ./agent/`

type fixedEngine struct{ resp []byte }

func (e fixedEngine) Handle(context.Context, string, []byte, func([]byte)) []byte { return e.resp }
func (fixedEngine) MayAsk(string) error                                           { return nil }
func (fixedEngine) Allowed(string) bool                                           { return true }

func BenchmarkWSRoundTrip(b *testing.B) {
	r := start(b, fixedEngine{[]byte(`{"id":"r1","ok":true,"result":{"version":"1.0.0","protocol":1}}`)}, Options{})
	r.a.o.Log = zerolog.Nop()
	c := r.dial(b, "https://portal.example")
	req := []byte(`{"id":"r1","op":"version","params":{}}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := c.WriteMessage(websocket.TextMessage, req); err != nil {
			b.Fatal(err)
		}
		if _, _, err := c.ReadMessage(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTCPEchoRoundTrip(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		s, err := ln.Accept()
		if err != nil {
			return
		}
		defer s.Close()
		buf := make([]byte, 4096)
		for {
			n, err := s.Read(buf)
			if err != nil {
				return
			}
			s.Write(buf[:n])
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req := make([]byte, 64)
	for b.Loop() {
		c.Write(req)
		if _, err := io.ReadFull(c, req); err != nil {
			b.Fatal(err)
		}
	}
}
