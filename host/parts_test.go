package host

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"kyso.vn/kyso/engine"
	"kyso.vn/kyso/internal/frame"
)

// answerer answers every request with the same response.
type answerer []byte

func (a answerer) Answer(context.Context, string, engine.Request, func([]byte)) []byte { return a }

// bigAnswer is a response of about size bytes for request id, like a signed
// document (base64), with text that JSON must escape and characters of
// 2, 3 and 4 bytes spread through it, so that cuts fall near all of them.
func bigAnswer(id string, size int) []byte {
	doc := make([]byte, size*3/4)
	for i := range doc {
		doc[i] = byte(i*7 + i>>9)
	}
	note := strings.Repeat("Ký bởi: NGUYỄN VĂN AN — \"trích dẫn\" \\ \t\n\x01 𝒦 ✓ ", 20000)
	b, _ := json.Marshal(map[string]any{"id": id, "ok": true, "result": map[string]string{
		"pdf": base64.StdEncoding.EncodeToString(doc), "note": note}})
	return b
}

// joinParts reads what the host wrote for one request and joins it as the
// extension's background does (extension/src/background.js, joiner; the
// rule in docs/protocol.md "Large answers"), failing on any break of the
// rule. It returns the joined JSON text and the number of messages.
func joinParts(t *testing.T, out io.Reader, id string) (string, int) {
	t.Helper()
	var pieces []string
	n, chars := 0, 0
	for msgs := 1; ; msgs++ {
		b, err := frame.Read(out, frame.Max) // Chrome's limit, host → browser
		if err != nil {
			t.Fatalf("message %d: %v", msgs, err)
		}
		var p struct {
			ID    string  `json:"id"`
			Part  *int    `json:"part"`
			Parts *int    `json:"parts"`
			Data  *string `json:"data"`
		}
		if err := json.Unmarshal(b, &p); err != nil || !utf8.Valid(b) {
			t.Fatalf("message %d is not JSON: %v", msgs, err)
		}
		if p.Part == nil {
			if n > 0 {
				t.Fatalf("message %d: not a part, between parts", msgs)
			}
			return string(b), msgs
		}
		switch {
		case p.ID != id || p.Parts == nil || p.Data == nil:
			t.Fatalf("message %d: a malformed part %.200s", msgs, b)
		case n == 0 && (*p.Part != 0 || *p.Parts < 1 || *p.Parts > 4096):
			t.Fatalf("first part %d of %d", *p.Part, *p.Parts)
		case n > 0 && (*p.Parts != n || *p.Part != len(pieces)):
			t.Fatalf("part %d of %d after %d of %d", *p.Part, *p.Parts, len(pieces), n)
		}
		n = *p.Parts
		chars += len(utf16.Encode([]rune(*p.Data)))
		if chars > 96<<20 {
			t.Fatal("over 96 MiB joined")
		}
		pieces = append(pieces, *p.Data)
		if len(pieces) == n {
			return strings.Join(pieces, ""), msgs
		}
	}
}

// A 20 MiB signed document reaches the extension as parts of at most
// 1 MiB each that join, exactly, into the response the engine wrote; the
// stream goes on after it. Sizes around the 1 MiB edge too: one byte under
// the limit is one message, never parts.
func TestRunAnswerInParts(t *testing.T) {
	for _, size := range []int{20 << 20, frame.Max + 1, 3*frame.Max - 7} {
		resp := bigAnswer("doc", size)
		h := start(t, answerer(resp))
		h.send(`{"origin":"https://a.vn","request":{"id":"doc","op":"signPdf"}}`)
		joined, msgs := joinParts(t, h.out, "doc")
		if joined != string(resp) {
			t.Fatalf("%d bytes: the joined parts differ from the response", len(resp))
		}
		if msgs < 2 || msgs > len(resp)/(frame.Max/2)+2 {
			t.Fatalf("%d bytes in %d messages", len(resp), msgs)
		}
		h.send(`{"origin":"https://a.vn","request":{"id":"doc","op":"version"}}`)
		if got, msgs := joinParts(t, h.out, "doc"); got != string(resp) || msgs != len(Parts("doc", resp)) {
			t.Fatal("the second answer differs")
		}
		h.end()
	}
	small := []byte(`{"id":"s","ok":true,"result":{"x":"` + strings.Repeat("A", frame.Max-40) + `"}}`)
	if len(small) > frame.Max {
		t.Fatalf("test answer of %d bytes", len(small))
	}
	h := start(t, answerer(small))
	h.send(`{"origin":"https://a.vn","request":{"id":"s","op":"version"}}`)
	if got, msgs := joinParts(t, h.out, "s"); got != string(small) || msgs != 1 {
		t.Fatalf("a 1 MiB answer came in %d messages", msgs)
	}
	h.end()
}

// Every part is at most 1 MiB as sent even when every character needs
// escaping six times over, and no cut splits a character.
func TestPartsWorstCase(t *testing.T) {
	for _, fill := range []string{"\x01", "\"", "é", "𝒦", "a\x02"} {
		text := `{"id":"w","ok":true,"result":{"x":` + strings.Repeat(fill, 3*frame.Max/len(fill)) + `}}`
		parts := Parts("w", []byte(text))
		var joined strings.Builder
		for i, p := range parts {
			var m struct{ Data string }
			if len(p) > frame.Max || json.Unmarshal(p, &m) != nil {
				t.Fatalf("%q: part %d of %d bytes", fill, i, len(p))
			}
			joined.WriteString(m.Data)
		}
		if joined.String() != text {
			t.Fatalf("%q: joined text differs", fill)
		}
	}
}

// The parts go through the real extension background (under node, with
// its test harness's fake browser API): the page gets the one response.
func TestPartsThroughBackground(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed (make test installs it)")
	}
	resp := bigAnswer("doc", 20<<20)
	var lines bytes.Buffer
	for _, p := range Parts("doc", resp) {
		lines.Write(p)
		lines.WriteByte('\n')
	}
	dir := t.TempDir()
	partsFile, wantFile := filepath.Join(dir, "parts.jsonl"), filepath.Join(dir, "want.json")
	if os.WriteFile(partsFile, lines.Bytes(), 0o600) != nil || os.WriteFile(wantFile, resp, 0o600) != nil {
		t.Fatal("writing the test files")
	}
	out, err := exec.Command(node, "testdata/joinparts.mjs", partsFile, wantFile).CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	if err != nil || !strings.HasPrefix(string(out), "ok") {
		t.Fatalf("background.js: %v\n%s", err, out)
	}
}
