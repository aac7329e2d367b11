package xmldsig

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
)

// Hostile or broken XML is BAD_DOCUMENT with a reason, and nothing is
// fetched: the external entities and DTDs below point at a local HTTP
// server that must see no request.
func TestRefusesHostileXML(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Write([]byte(`<!ENTITY x "fetched">`))
	}))
	defer srv.Close()
	u := srv.URL

	lol := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">` +
		`<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
		`<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">` +
		`<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">` +
		`<!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]><lolz>&lol9;</lolz>`
	deep := strings.Repeat("<a>", MaxDepth+1) + strings.Repeat("</a>", MaxDepth+1)
	var manyAttrs strings.Builder
	manyAttrs.WriteString("<r")
	for i := 0; i <= MaxAttrs; i++ {
		manyAttrs.WriteString(" a" + strings.Repeat("x", i%7) + itoa3(i) + `="1"`)
	}
	manyAttrs.WriteString("/>")

	cases := []struct{ name, doc, reason string }{
		{"doctype", `<!DOCTYPE r><r/>`, "DOCTYPE"},
		{"external entity (XXE)", `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "` + u + `/xxe">]><r>&x;</r>`, "DOCTYPE"},
		{"local file entity", `<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>`, "DOCTYPE"},
		{"external DTD", `<!DOCTYPE r SYSTEM "` + u + `/dtd"><r/>`, "DOCTYPE"},
		{"public external DTD", `<!DOCTYPE r PUBLIC "-//K//DTD//EN" "` + u + `/pub"><r/>`, "DOCTYPE"},
		{"parameter entity", `<!DOCTYPE r [<!ENTITY % p SYSTEM "` + u + `/p"> %p;]><r>&x;</r>`, "DOCTYPE"},
		{"billion laughs", lol, "DOCTYPE"},
		{"entity without a DTD", `<r>&lol9;</r>`, "not well-formed"},
		{"ISO-8859-1", `<?xml version="1.0" encoding="ISO-8859-1"?><r/>`, `only UTF-8 XML is accepted: xml: encoding "ISO-8859-1" declared`},
		{"windows-1258", `<?xml version="1.0" encoding="windows-1258"?><r/>`, "only UTF-8"},
		{"UTF-16", "\xff\xfe<\x00r\x00/\x00>\x00", "not well-formed"},
		{"invalid UTF-8 in text", "<r>\xc3\x28</r>", "not well-formed"},
		{"invalid UTF-8 in an attribute", "<r a=\"\xff\"/>", "not well-formed"},
		{"invalid UTF-8 in a comment", "<r><!-- \xff --></r>", "invalid UTF-8 in a comment"},
		{"control character in a comment", "<r><!-- \x01 --></r>", "not allowed in a comment"},
		{"control character in a processing instruction", "<r><?p \x02?></r>", "not allowed in a processing instruction"},
		{"NUL reference", "<r>&#0;</r>", "not well-formed"},
		{"too deep", deep, "nested deeper than 256"},
		{"too many attributes", manyAttrs.String(), "more than 256 attributes"},
		{"name too long", "<" + strings.Repeat("n", MaxNameLen) + "/>", "longer than 512 bytes"},
		{"tag too long", `<r a="` + strings.Repeat("v", MaxTagBytes) + `"/>`, "tag is longer than"},
		{"two roots", `<a/><b/>`, "more than one root"},
		{"text outside the root", `<a/>x`, "text outside the root"},
		{"no root", `<?xml version="1.0"?>`, "no root element"},
		{"empty", ``, "no root element"},
		{"not closed", `<a><b></b>`, "not closed"},
		{"wrongly closed", `<a><b></a></b>`, "closed by"},
		{"end without start", `</a>`, "not well-formed"},
		{"undeclared element prefix", `<p:a/>`, "not declared"},
		{"undeclared attribute prefix", `<a p:x="1"/>`, "not declared"},
		{"attribute twice", `<a x="1" x="2"/>`, "given twice"},
		{"same expanded attribute name twice", `<a xmlns:p="urn:x" xmlns:q="urn:x" p:k="1" q:k="2"/>`, "given twice"},
		{"namespace declared twice", `<a xmlns:p="urn:x" xmlns:p="urn:y"/>`, "declared twice"},
		{"prefix undeclared (XML 1.1)", `<a xmlns:p=""/>`, "XML 1.1"},
		{"relative namespace", `<a xmlns="rel/ns"/>`, "relative URI"},
		{"xmlns declared", `<a xmlns:xmlns="urn:x"/>`, "cannot be declared"},
		{"xml bound elsewhere", `<a xmlns:xml="urn:x"/>`, "go only together"},
		{"xml namespace on another prefix", `<a xmlns:p="http://www.w3.org/XML/1998/namespace"/>`, "go only together"},
		{"element with the xmlns prefix", `<xmlns:a/>`, "reserved prefix"},
		{"colons in a name", `<a:b:c xmlns:a="urn:a"/>`, "not well-formed"},
		{"late XML declaration", `<a><?xml version="1.0"?></a>`, "only allowed at the very start"},
		{"XML declaration in another case", `<?XML version="1.0"?><a/>`, "only allowed at the very start"},
		{"XML 1.1", `<?xml version="1.1"?><a/>`, "not well-formed"},
		{"bare ampersand", `<a>&</a>`, "not well-formed"},
		{"less-than in an attribute", `<a x="<"/>`, "not well-formed"},
		{"CDATA end in text", `<a>]]></a>`, "not well-formed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Prepare([]byte(c.doc), signerFor(t, "rsa"), Options{})
			wantBad(t, err, c.reason)
		})
	}
	if n := requests.Load(); n != 0 {
		t.Fatalf("the local server saw %d requests", n)
	}
}

func itoa3(i int) string {
	return string([]byte{byte('0' + i/100), byte('0' + i/10%10), byte('0' + i%10)})
}

// The limits themselves are allowed.
func TestAtTheLimits(t *testing.T) {
	deep := strings.Repeat("<a>", MaxDepth) + strings.Repeat("</a>", MaxDepth)
	var attrs strings.Builder
	attrs.WriteString("<r")
	for i := 0; i < MaxAttrs; i++ {
		attrs.WriteString(" a" + itoa3(i) + `="1"`)
	}
	attrs.WriteString("/>")
	for _, doc := range []string{deep, attrs.String(), "<" + strings.Repeat("n", MaxNameLen-1) + "/>"} {
		s := signDoc(t, "rsa", []byte(doc), Options{})
		checkOutside(t, s)
		mustVerify(t, s.out, s.sigID)
	}
}

// The options are checked against the document: a reference or parent
// that is missing or not unique is BAD_DOCUMENT, as is a malformed one.
func TestOptionsAgainstDocument(t *testing.T) {
	doc := `<HDon><DLHDon Id="a">x</DLHDon><DSCKS><NBan/><NBan/></DSCKS><X id="b"><Y Id="b"/></X><Z ID="c"/><W Id="d"/><V ID="d"/></HDon>`
	cases := []struct {
		opts   Options
		reason string
	}{
		{Options{Reference: "#nope"}, `no element has the Id "nope"`},
		{Options{Reference: "#b"}, `more than one element has the Id "b"`},
		{Options{Reference: "#c"}, `no element has the Id "c"`}, // ID is not Id or id…
		{Options{Reference: "#a", Parent: "/HDon/Q"}, `no element /HDon/Q`},
		{Options{Reference: "#d"}, `more than one element has the Id "d"`}, // …but collides
		{Options{Reference: "#a", Parent: "/HDon/DSCKS/NMua"}, "no element /HDon/DSCKS/NMua"},
		{Options{Reference: "#a", Parent: "/HDon/DSCKS/NBan"}, "more than one element matches /HDon/DSCKS/NBan"},
		{Options{Reference: "#a", Parent: "/Other"}, "no element /Other"},
		{Options{Reference: "a"}, "neither"},
		{Options{Reference: "#"}, "neither"},
		{Options{Reference: "#a b"}, "neither"},
		{Options{Reference: `#a"`}, "neither"},
		{Options{Parent: "HDon/DSCKS"}, "absolute path"},
		{Options{Parent: "/HDon//NBan"}, "absolute path"},
		{Options{Parent: "/HDon/DSCKS/"}, "absolute path"},
		{Options{Parent: "/HDon/NBan[1]"}, "absolute path"},
		{Options{Parent: "/HDon/:NBan"}, "bad step"},
	}
	// Java's XML Signature copies the outermost xml:* value into the
	// apex, C14N 1.0 (xmlsec1, Kyso) the nearest: such documents are
	// refused, not signed for half the receivers.
	for _, c := range []struct {
		doc    string
		opts   Options
		reason string
	}{
		{`<r xml:lang="vi"><m xml:lang="en"><e Id="x"/></m><S/></r>`, Options{Reference: "#x", Parent: "/r/S"}, "xml:lang is set to different values around /r/m/e"},
		{`<r xml:base="http://a/"><m xml:base="b/"><S/></m></r>`, Options{Parent: "/r/m/S"}, "xml:base is set to different values around /r/m/S"},
	} {
		_, err := Prepare([]byte(c.doc), signerFor(t, "rsa"), c.opts)
		wantBad(t, err, c.reason)
	}
	for _, c := range cases {
		_, err := Prepare([]byte(doc), signerFor(t, "rsa"), c.opts)
		wantBad(t, err, c.reason)
		if strings.Contains(c.reason, "neither") || strings.Contains(c.reason, "path") || strings.Contains(c.reason, "bad step") {
			if c.opts.Validate() == nil {
				t.Errorf("Validate accepted %+v", c.opts)
			}
		}
	}
	if _, err := Prepare(bytes.Repeat([]byte(" "), MaxSize+1), signerFor(t, "rsa"), Options{}); err == nil {
		t.Fatal("a document over MaxSize was accepted")
	}
}

// Work stays linear in the input: xml:* attributes at every level (which
// the apex inherits), many attributes per element, many elements on the
// parent's path. Quadratic code here would take minutes, not milliseconds.
func TestNoQuadraticWork(t *testing.T) {
	var b strings.Builder
	for d := 0; d < MaxDepth-1; d++ {
		b.WriteString("<a")
		for i := 0; i < MaxAttrs-1; i++ {
			b.WriteString(" xml:a" + itoa3(i) + `="v"`)
		}
		b.WriteString(">")
	}
	b.WriteString(`<e Id="x"/>`)
	b.WriteString(strings.Repeat("</a>", MaxDepth-1))
	s := signDoc(t, "rsa", []byte(b.String()), Options{Reference: "#x", Parent: strings.Repeat("/a", MaxDepth-1), SigningTime: true})
	checkOutside(t, s)

	b.Reset()
	b.WriteString("<r>")
	for i := 0; i < 2000; i++ {
		b.WriteString("<p")
		for j := 0; j < MaxAttrs; j++ {
			b.WriteString(" a" + itoa3(j) + `=""`)
		}
		b.WriteString("/>")
	}
	b.WriteString("</r>")
	_, err := Prepare([]byte(b.String()), signerFor(t, "rsa"), Options{Parent: "/r/p"})
	wantBad(t, err, "more than one element matches /r/p")
}

// A hostile tag is stopped after MaxTagBytes, before encoding/xml has
// collected its attributes: a 32 MiB start tag of tiny attributes costs a
// few MiB, not the gigabyte the attribute slice would take.
func TestHugeTagMemory(t *testing.T) {
	doc := []byte("<r" + strings.Repeat(` a=""`, (32<<20)/5) + "/>")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Prepare(doc, signerFor(t, "rsa"), Options{})
	runtime.ReadMemStats(&after)
	wantBad(t, err, "tag is longer than")
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Fatalf("refusing a 32 MiB tag allocated %d MiB", alloc>>20)
	}
}
