package engine

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// docResult writes the JSON that marshal would make of the same result
// (the escaping of encoding/json without HTML escaping), in a buffer sized
// right: for base64 exactly, for text from its escapes.
func TestDocResultJSON(t *testing.T) {
	xml := []byte("<a b=\"1\">Ký bởi & \\ \t\n\r\b\f\x01\x1f\x7f ]]></a>")
	pdfs := [][]byte{[]byte("%PDF-1.7\n\x00\xff"), {}, []byte("x")}
	for _, c := range []struct {
		name string
		r    docResult
		want any
	}{
		{"one pdf", docResult{key: "pdf", b64: true, docs: [][]byte{pdfs[0]}}, pdfResult{base64.StdEncoding.EncodeToString(pdfs[0])}},
		{"pdf list", docResult{key: "pdf", b64: true, list: true, docs: append([][]byte(nil), pdfs...)},
			docListResult[pdfResult]{[]pdfResult{{base64.StdEncoding.EncodeToString(pdfs[0])}, {""}, {"eA=="}}}},
		{"one xml", docResult{key: "xml", docs: [][]byte{xml}}, xmlResult{string(xml)}},
		{"xml list", docResult{key: "xml", list: true, docs: [][]byte{xml, []byte("<b/>")}},
			docListResult[xmlResult]{[]xmlResult{{string(xml)}, {"<b/>"}}}},
	} {
		want, err := marshal(c.want)
		if err != nil {
			t.Fatal(err)
		}
		size := c.r.size()
		got := c.r.appendJSON(nil)
		if string(got) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, want)
		}
		if size != len(got) {
			t.Errorf("%s: size %d for %d bytes", c.name, size, len(got))
		}
	}
	ans, err := okAnswer("a\"<1", docResult{key: "pdf", b64: true, docs: [][]byte{{1}}})
	if want := `{"id":"a\"<1","ok":true,"result":{"pdf":"AQ=="}}`; err != nil || string(ans) != want {
		t.Errorf("okAnswer: %s, %v; want %s", ans, err, want)
	}
}

// A document's string is read in place in the request when it has no
// escapes, and unescaped when it has (a JSON writer may escape "/" in
// base64 as "\/").
func TestDocString(t *testing.T) {
	id := strings.Repeat("a", 64)
	doc := []byte{0xff, 0xff, 0xff, 0xfb} // base64 "////+w=="
	raw := []byte(`{"certificateId":"` + id + `","pdf":"\/\/\/\/+w=="}`)
	r, f := parseSignPdf(raw)
	if f != nil || !bytes.Equal(r.docs[0].data, doc) {
		t.Fatalf("escaped base64: %v", f)
	}
	raw = []byte(`{"certificateId":"` + id + `","xml":"<a b=\"1\">\u1ef3</a>"}`)
	x, f := parseSignXml(raw)
	if f != nil || string(x.docs[0].data) != `<a b="1">ỳ</a>` {
		t.Fatalf("escaped xml: %v", f)
	}
	req := ParseRequest([]byte(`{"id":"1","op":"signXml","params":{"certificateId":"` + id + `","xml":"<a/>"}}`))
	x, f = parseSignXml(req.Params)
	at := bytes.Index(req.Raw, []byte("<a/>"))
	if f != nil || &x.docs[0].data[0] != &req.Raw[at] {
		t.Fatalf("xml without escapes: %v, not read in place", f)
	}
}
