package xmldsig

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Canonical XML is where a signer and a verifier most often disagree.
// Each document here has an element e with Id="x" and a parent S; it is
// signed over #x and over the whole document, and xmlsec1 (libxml2's
// canonicaliser) and Java's XML Signature (Santuario's), both independent
// of Kyso's, must verify each. On a failure
// the test prints xmlsec1's canonical bytes beside Kyso's.
var c14nCases = []struct {
	name, doc, parent, idAttr string
}{
	{"attributes in several namespaces sort by namespace name, not prefix",
		`<r xmlns:b="urn:a" xmlns:a="urn:z" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><e Id="x" a:y="1" b:x="2" xml:lang="vi" xsi:nil="false" z="3" b:a="4"/><S/></r>`, "/r/S", "Id e"},
	{"literal whitespace in attribute values becomes spaces, references stay",
		"<r><e Id=\"x\"\n   t=\"a\tb\nc\r\nd\"\r\n   u=\"&#9;&#10;&#13;&#32;\" v='\t'/><S/></r>", "/r/S", "Id e"},
	{"CDATA, character references and escapes in text",
		`<r><e Id="x"><![CDATA[x<y&z>"']]>t&#13;u&#9;v &gt; &lt; &amp; &quot; &apos; ]]&gt; &#x10FFFF;&#xE000;</e><S/></r>`, "/r/S", "Id e"},
	{"CRLF and CR line ends",
		"<r>\r\n<e Id=\"x\">a\r\nb\rc<![CDATA[d\r\ne]]></e>\r\n<S/>\r\n</r>\r\n", "/r/S", "Id e"},
	{"comments and processing instructions inside and outside the root",
		"<?pi-before data?>\n<!-- c -->\n<r><e Id=\"x\"><!-- in --><?pi  in \r\n x?><?empty?>t</e><S/></r>\n<!-- after --><?pi-after   ?>\n", "/r/S", "Id e"},
	{"xml:* attributes are inherited by the apex (C14N 1.0)",
		`<r xml:lang="vi" xml:space="preserve"><m xml:lang="vi"><e Id="x" xml:space="default">t</e></m><S/></r>`, "/r/S", "Id e"},
	{"an xml:* attribute on the apex hides the ancestors' values",
		`<r xml:lang="vi"><m xml:lang="en"><e Id="x" xml:lang="fr">t</e></m><S/></r>`, "/r/S", "Id e"},
	{"xml:base is inherited too",
		`<r xml:base="http://example.com/a/"><m><e Id="x">t</e></m><S xml:lang="vi"/></r>`, "/r/S", "Id e"},
	{"a prefix redeclared on the apex, default namespace undeclared inside",
		`<r xmlns="urn:d" xmlns:a="urn:one"><e Id="x" xmlns:a="urn:two" a:y="1"><k xmlns="">z</k><a:k xmlns:a="urn:two"/><a:k xmlns:a="urn:one"/></e><S/></r>`, "/r/S", "Id urn:d:e"},
	{"a prefixed document",
		`<inv:HDon xmlns:inv="urn:inv"><inv:DLHDon Id="x"><inv:Ten>Công ty</inv:Ten></inv:DLHDon><inv:DSCKS><inv:NBan/></inv:DSCKS></inv:HDon>`, "/inv:HDon/inv:DSCKS/inv:NBan", "Id urn:inv:DLHDon"},
	{"a prefixed document, parent by local names",
		`<inv:HDon xmlns:inv="urn:inv"><inv:DLHDon Id="x"><inv:Ten>Công ty</inv:Ten></inv:DLHDon><inv:DSCKS><inv:NBan/></inv:DSCKS></inv:HDon>`, "/HDon/DSCKS/NBan", "Id urn:inv:DLHDon"},
	{"the parent inherits a default namespace",
		`<r xmlns="urn:d" xmlns:p="urn:p"><e Id="x"/><q><S></S></q></r>`, "/r/q/S", "Id urn:d:e"},
	{"the apex undeclares the default namespace",
		`<r xmlns="urn:d"><e xmlns="" Id="x"><f/></e><S/></r>`, "/r/S", "Id e"},
	{"Vietnamese names and characters beyond the BMP",
		`<Hóa_đơn><Dữ_liệu Id="x" Tên="Nguyễn Thị Ánh">😀 ký số – Đồng</Dữ_liệu><Chữ_ký/></Hóa_đơn>`, "/Hóa_đơn/Chữ_ký", "Id Dữ_liệu"},
	{"byte order mark and standalone declaration",
		"\ufeff<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<r><e Id=\"x\">t</e><S/></r>\n", "/r/S", "Id e"},
	{"odd spacing in tags",
		"<r ><e  Id = 'x'  a = \"1\" ></e ><S  /></r\n>", "/r/S", "Id e"},
	{"quotes and markup characters in attributes",
		`<r><e Id="x" a="&lt;&amp;&gt;&quot;&apos;" b='"q"' c="x>y"/><S/></r>`, "/r/S", "Id e"},
	{"the parent inside the signed element (enveloped)",
		`<r><e Id="x"><a>1</a><S/><b>2</b></e></r>`, "/r/e/S", "Id e"},
	{"the signed element is the parent",
		`<r><e Id="x"><a>1</a></e></r>`, "/r/e", "Id e"},
	{"superfluous declarations are dropped",
		`<r xmlns:a="urn:a"><e Id="x" xmlns:a="urn:a"><f xmlns:a="urn:a" xmlns:b="urn:b"><g xmlns:b="urn:b"/></f></e><S/></r>`, "/r/S", "Id e"},
	{"the xml prefix declared explicitly",
		`<r xmlns:xml="http://www.w3.org/XML/1998/namespace"><e Id="x" xmlns:xml="http://www.w3.org/XML/1998/namespace" xml:lang="vi"/><S xmlns:xml="http://www.w3.org/XML/1998/namespace"/></r>`, "/r/S", "Id e"},
	{"lowercase id of a tax filing",
		`<T xmlns="http://kekhaithue.gdt.gov.vn/TKhaiThue"><e id="x">a</e><S/></T>`, "/T/S", "id http://kekhaithue.gdt.gov.vn/TKhaiThue:e"},
	{"whitespace-only text and an empty parent with attributes",
		"<r>\n\t<e Id=\"x\">\n\t\t<f>  </f>\n\t</e>\n\t<S a=\"1\"></S>\n</r>", "/r/S", "Id e"},
	{"many namespaces in scope of SignedInfo",
		`<r xmlns="urn:d" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:inv="http://laphoadon.gdt.gov.vn/2014/09/invoicexml/v1"><e Id="x"/><S xmlns:z="urn:z" xml:lang="vi"/></r>`, "/r/S", "Id urn:d:e"},
}

func TestCanonicalAgainstXmlsec1(t *testing.T) {
	java := newJavaVerifier(t)
	defer java.verify(t)
	for _, c := range c14nCases {
		t.Run(c.name, func(t *testing.T) {
			for _, ref := range []string{"#x", ""} {
				for _, st := range []bool{false, true} {
					s := signDoc(t, "rsa", []byte(c.doc), Options{Reference: ref, Parent: c.parent, SigningTime: st})
					checkOutside(t, s)
					java.add(s.out, s.sigID)
					if ok, out := xmlsec(t, s.out, s.sigID, c.idAttr); !ok {
						t.Fatalf("reference %q: xmlsec1 --verify failed:\n%s\n%s", ref, out, compareCanonical(t, s, c.idAttr))
					}
				}
			}
		})
	}
}

// compareCanonical shows xmlsec1's pre-digest bytes of each reference and
// of SignedInfo beside Kyso's canonical form of the signed part.
func compareCanonical(t *testing.T, s signed, idAttr string) string {
	f := filepath.Join(t.TempDir(), "doc.xml")
	os.WriteFile(f, s.out, 0o600)
	attr, node, _ := strings.Cut(idAttr, " ")
	out, _ := exec.Command("xmlsec1", "--verify", "--store-references", "--store-signatures", "--print-debug",
		"--trusted-pem", getPKI(t).caPEM, "--id-attr:Id", nsDSig+":Signature", "--node-id", s.sigID,
		"--id-attr:"+attr, node, f).CombinedOutput()
	var b strings.Builder
	for _, m := range regexp.MustCompile(`(?s)== PreDigest data - start buffer:\n(.*?)\n== PreDigest data - end buffer`).FindAllSubmatch(out, -1) {
		b.WriteString("xmlsec1: " + string(m[1]) + "\n")
	}
	ref := strings.TrimPrefix(regexp.MustCompile(`<Reference URI="([^"]*)"`).FindStringSubmatch(string(s.prep.sigHead))[1], "#")
	kyso, err := canonicalBytes(s.in, ref)
	b.WriteString("kyso:    " + string(kyso) + "\n")
	if err != nil {
		b.WriteString(err.Error())
	}
	return b.String()
}

// canonicalBytes is the canonical form of the element with Id id, or of
// the whole document, as Prepare hashes it.
func canonicalBytes(doc []byte, id string) ([]byte, error) {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	doc = bytes.TrimPrefix(doc, []byte("\xef\xbb\xbf"))
	s := &scanner{data: doc, out: w, wholeDoc: id == ""}
	found := false
	s.startCapture = func(s *scanner, f *frame, attrs []attr) bool {
		if id == "" {
			return s.depth() == 1
		}
		for _, a := range attrs {
			if a.prefix == "" && (a.local == "Id" || a.local == "id") && a.value == id {
				found = true
			}
		}
		return found
	}
	err := s.run(nil)
	w.Flush()
	return buf.Bytes(), err
}
