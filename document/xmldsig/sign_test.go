package xmldsig

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"

	"kyso.vn/kyso/document"
)

var keyNames = []string{"rsa", "p256", "p384", "p521"}

const (
	invoiceID    = "#DLHDon-1C26TKY-0000123"
	invoiceNSID  = "#TS24_2603141448445960106322455"
	mccqtID      = "#Id-3fca5333d7894598844aae52ece50271"
	tokhaiIDAttr = "id http://kekhaithue.gdt.gov.vn/TKhaiThue:HSoKhaiThue"
)

// The shapes Kyso is for, with every key type: each signed document
// verifies with xmlsec1 against the test CA, is the input plus the
// Signature, and a changed amount (or signing time) makes xmlsec1 fail.
func TestSignVerifies(t *testing.T) {
	cases := []struct {
		name, fixture string
		opts          Options
		idAttr        string
		tamper        [2]string // a signed value and a change to it
	}{
		{"invoice, DLHDon, signing time", "invoice.xml", Options{Reference: invoiceID, Parent: "/HDon/DSCKS/NBan", SigningTime: true}, "Id DLHDon", [2]string{"1296000", "1296001"}},
		{"invoice, DLHDon", "invoice.xml", Options{Reference: invoiceID, Parent: "/HDon/DSCKS/NBan"}, "Id DLHDon", [2]string{"<SLuong>2<", "<SLuong>3<"}},
		{"invoice, whole document", "invoice.xml", Options{Parent: "/HDon/DSCKS/NBan", SigningTime: true}, "", [2]string{"<NMua/>", "<NMua></NMua><X/>"}},
		{"invoice, whole document, root", "invoice.xml", Options{}, "", [2]string{"Trần Thị Bình", "Trần Thị Bính"}},
		{"invoice with namespaces and a stylesheet PI, DLHDon", "invoice-ns.xml", Options{Reference: invoiceNSID, Parent: "/HDon/DSCKS/NBan", SigningTime: true}, "Id DLHDon", [2]string{"1320000", "1320001"}},
		{"invoice with namespaces and a stylesheet PI, whole", "invoice-ns.xml", Options{Parent: "/HDon/DSCKS/NBan", SigningTime: true}, "", [2]string{"HDGTGT.xsl", "HDGTGT2.xsl"}},
		{"tax filing, HSoKhaiThue", "tokhai.xml", Options{Reference: "#ID_1", Parent: "/HSoThueDTu/CKyDTu"}, tokhaiIDAttr, [2]string{"31272863", "31272864"}},
		{"tax filing, HSoKhaiThue, signing time", "tokhai.xml", Options{Reference: "#ID_1", Parent: "/HSoThueDTu/CKyDTu", SigningTime: true}, tokhaiIDAttr, [2]string{"<kyKKhai>1/2026<", "<kyKKhai>2/2026<"}},
		{"tax filing, whole document", "tokhai.xml", Options{Parent: "/HSoThueDTu/CKyDTu"}, "", [2]string{"xsi:nil=\"true\"", "xsi:nil=\"false\""}},
	}
	java := newJavaVerifier(t)
	for _, c := range cases {
		for _, k := range keyNames {
			t.Run(c.name+"/"+k, func(t *testing.T) {
				in := readFixture(t, c.fixture)
				s := signDoc(t, k, in, c.opts)
				checkOutside(t, s)
				java.add(s.out, s.sigID)
				var ids []string
				if c.idAttr != "" {
					ids = append(ids, c.idAttr)
				}
				mustVerify(t, s.out, s.sigID, ids...)
				bad := bytes.Replace(s.out, []byte(c.tamper[0]), []byte(c.tamper[1]), 1)
				if bytes.Equal(bad, s.out) {
					t.Fatalf("tamper %q not found", c.tamper[0])
				}
				if ok, _ := xmlsec(t, bad, s.sigID, ids...); ok {
					t.Fatalf("xmlsec1 accepted the document with %q changed to %q", c.tamper[0], c.tamper[1])
				}
				if c.opts.SigningTime {
					bad := regexp.MustCompile(`<SigningTime>[^<]*</SigningTime>`).ReplaceAll(s.out, []byte("<SigningTime>2020-01-01T00:00:00</SigningTime>"))
					if ok, _ := xmlsec(t, bad, s.sigID, ids...); ok {
						t.Fatal("xmlsec1 accepted a changed SigningTime")
					}
				}
			})
		}
	}
	java.verify(t)
}

// The shape real receivers expect (docs/xml-signing.md): one Signature in
// the parent with an Id, the reference with the enveloped-signature
// transform, the Object's reference without transforms, KeyInfo with the
// subject name and certificate, SigningTime in Vietnam's local time.
func TestShape(t *testing.T) {
	s := signDoc(t, "rsa", readFixture(t, "invoice.xml"), Options{Reference: invoiceID, Parent: "/HDon/DSCKS/NBan", SigningTime: true})
	id := s.sigID
	if !regexp.MustCompile(`^NBan-[0-9a-f]{16}$`).MatchString(id) {
		t.Errorf("Signature Id %q", id)
	}
	want := `<NBan><Signature xmlns="http://www.w3.org/2000/09/xmldsig#" Id="` + id + `"><SignedInfo>` +
		`<CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>` +
		`<SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>` +
		`<Reference URI="#DLHDon-1C26TKY-0000123"><Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></Transforms>` +
		`<DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue>`
	if !bytes.Contains(s.out, []byte(want)) {
		t.Errorf("output lacks %s", want)
	}
	for _, w := range []string{
		`<Reference URI="#Object-` + id + `"><DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue>`,
		`</SignedInfo><SignatureValue>`,
		`<KeyInfo><X509Data><X509SubjectName>UID=MST:0100109106,CN=CÔNG TY CỔ PHẦN KIỂM THỬ KYSO,O=Kyso\, thử nghiệm,L=Hà Nội,C=VN</X509SubjectName><X509Certificate>MII`,
		`<Object Id="Object-` + id + `"><SignatureProperties xmlns=""><SignatureProperty Id="SignatureProperty-` + id + `" Target="#` + id + `"><SigningTime>2026-03-14T16:26:53</SigningTime></SignatureProperty></SignatureProperties></Object></Signature></NBan>`,
	} {
		if !bytes.Contains(s.out, []byte(w)) {
			t.Errorf("output lacks %s", w)
		}
	}
	if n := bytes.Count(s.out, []byte("<Signature ")); n != 1 {
		t.Errorf("%d Signature elements", n)
	}
}

// The seller signs, then the tax authority (DSCKS/CQT, over DLHDon and
// MCCQT) and the buyer (DSCKS/NMua) add theirs: every signature stays
// valid, in either order.
func TestLaterSignaturesKeepEarlierValid(t *testing.T) {
	in := readFixture(t, "invoice-ns.xml")
	seller := signDoc(t, "rsa", in, Options{Reference: invoiceNSID, Parent: "/HDon/DSCKS/NBan", SigningTime: true})
	cqt := signDoc(t, "p256", seller.out, Options{Reference: mccqtID, Parent: "/HDon/DSCKS/CQT", SigningTime: true})
	buyer := signDoc(t, "p384", cqt.out, Options{Reference: invoiceNSID, Parent: "/HDon/DSCKS/NMua", SigningTime: true})
	java := newJavaVerifier(t)
	for _, s := range []signed{seller, cqt, buyer} {
		checkOutside(t, s)
		mustVerify(t, buyer.out, s.sigID, "Id DLHDon", "Id MCCQT")
		java.add(buyer.out, s.sigID)
	}
	java.verify(t)
	// The other order: the buyer's first (as some portals do), then the seller's.
	b := signDoc(t, "rsa", in, Options{Reference: invoiceNSID, Parent: "/HDon/DSCKS/NMua"})
	s := signDoc(t, "rsa", b.out, Options{Reference: invoiceNSID, Parent: "/HDon/DSCKS/NBan", SigningTime: true})
	mustVerify(t, s.out, b.sigID, "Id DLHDon")
	mustVerify(t, s.out, s.sigID, "Id DLHDon")
}

// A new signature that would break an earlier one is refused: the earlier
// one covers the whole document, or an element the parent is in.
func TestRefusesBreakingEarlierSignature(t *testing.T) {
	in := readFixture(t, "invoice.xml")
	whole := signDoc(t, "rsa", in, Options{Parent: "/HDon/DSCKS/NMua"})
	_, err := Prepare(whole.out, signerFor(t, "rsa"), Options{Reference: invoiceID, Parent: "/HDon/DSCKS/NBan"})
	wantBad(t, err, "covers /HDon/DSCKS/NBan")

	byID := signDoc(t, "rsa", in, Options{Reference: invoiceID, Parent: "/HDon/DSCKS/NBan"})
	_, err = Prepare(byID.out, signerFor(t, "rsa"), Options{Reference: invoiceID, Parent: "/HDon/DLHDon/NDHDon/NMua"})
	wantBad(t, err, "at /HDon/DSCKS/NBan/Signature covers")
	// A signature that filters its reference with XPath may not break: allowed.
	filtered := bytes.Replace(whole.out, []byte(`<Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>`),
		[]byte(`<Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><XPath>not(ancestor-or-self::Signature)</XPath></Transform>`), 1)
	if _, err := Prepare(filtered, signerFor(t, "rsa"), Options{Reference: invoiceID, Parent: "/HDon/DSCKS/NBan"}); err != nil {
		t.Fatal(err)
	}
}

// The Signature's Id is ASCII whatever the parent's name (it is used in
// URI fragments).
func TestSignatureIDIsASCII(t *testing.T) {
	for parent, prefix := range map[string]string{"/Hóa_đơn/Chữ_ký": "Ch_k-", "/Hóa_đơn/ký": "k-", "/Hóa_đơn/Ư": "Sig-", "/Hóa_đơn/_1": "_1-"} {
		doc := `<Hóa_đơn><Chữ_ký/><ký/><Ư/><_1/></Hóa_đơn>`
		s := signDoc(t, "rsa", []byte(doc), Options{Parent: parent, SigningTime: true})
		if !strings.HasPrefix(s.sigID, prefix) {
			t.Errorf("%s: Id %q", parent, s.sigID)
		}
		mustVerify(t, s.out, s.sigID)
	}
}

// <NBan/> and <NBan attr="…" /> are opened to receive the Signature.
func TestSelfClosingParent(t *testing.T) {
	for _, in := range []string{
		`<HDon><DLHDon Id="a">x</DLHDon><DSCKS><NBan/></DSCKS></HDon>`,
		`<HDon><DLHDon Id="a">x</DLHDon><DSCKS><NBan  k="v" /></DSCKS></HDon>`,
		`<HDon/>`,
	} {
		opts := Options{Reference: "#a", Parent: "/HDon/DSCKS/NBan", SigningTime: true}
		if in == `<HDon/>` {
			opts = Options{}
		}
		s := signDoc(t, "rsa", []byte(in), opts)
		if !s.prep.parent.selfClose {
			t.Fatalf("%s: not seen as self-closing", in)
		}
		checkOutside(t, s)
		mustVerify(t, s.out, s.sigID, "Id DLHDon")
	}
}

func signerFor(t testing.TB, k string) document.Signer {
	return document.Signer{Cert: getPKI(t).signer[k].cert, Time: time.Now()}
}

func wantBad(t testing.TB, err error, reason string) {
	t.Helper()
	var de *document.Error
	if !errors.As(err, &de) || de.Code != document.CodeBadDocument {
		t.Fatalf("want BAD_DOCUMENT (%s), got %v", reason, err)
	}
	if !strings.Contains(de.Reason, reason) {
		t.Fatalf("reason %q does not say %q", de.Reason, reason)
	}
}

// Finish writes nothing for a signature that does not verify, and converts
// ECDSA DER to r‖s of the curve's width (a short r is padded).
func TestFinishChecksSignature(t *testing.T) {
	in := readFixture(t, "invoice.xml")
	for _, k := range keyNames {
		p, err := Prepare(in, signerFor(t, k), Options{Reference: invoiceID, Parent: "/HDon/DSCKS/NBan"})
		if err != nil {
			t.Fatal(err)
		}
		sig := signWith(t, getPKI(t).signer[k].key, p)
		bad := bytes.Clone(sig)
		bad[len(bad)-1] ^= 1
		if _, err := p.Finish(context.Background(), bad); err == nil {
			t.Errorf("%s: a broken signature was accepted", k)
		}
		if _, err := p.Finish(context.Background(), nil); err == nil {
			t.Errorf("%s: an empty signature was accepted", k)
		}
		out, err := p.Finish(context.Background(), sig)
		if err != nil {
			t.Fatal(err)
		}
		if k == "rsa" {
			continue
		}
		v := regexp.MustCompile(`<SignatureValue>([^<]+)<`).FindSubmatch(out)[1]
		size := map[string]int{"p256": 32, "p384": 48, "p521": 66}[k]
		if got := len(mustB64(t, string(v))); got != 2*size {
			t.Errorf("%s: SignatureValue is %d bytes, want %d", k, got, 2*size)
		}
	}
	raw, err := ecdsaRaw(derRS(t, big.NewInt(5), big.NewInt(258)), 32)
	if err != nil || len(raw) != 64 || raw[31] != 5 || raw[62] != 1 || raw[63] != 2 {
		t.Fatalf("ecdsaRaw: %x %v", raw, err)
	}
	for _, der := range [][]byte{nil, {0x30, 0}, append(derRS(t, big.NewInt(1), big.NewInt(1)), 0), derRS(t, new(big.Int).Lsh(big.NewInt(1), 300), big.NewInt(1)), derRS(t, big.NewInt(0), big.NewInt(1))} {
		if _, err := ecdsaRaw(der, 32); err == nil {
			t.Errorf("ecdsaRaw accepted %x", der)
		}
	}
}

func derRS(t testing.TB, r, s *big.Int) []byte {
	b, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// An Ed25519 certificate cannot sign XML for these receivers.
func TestUnsupportedKey(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(9)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	if _, err := Prepare([]byte("<a/>"), document.Signer{Cert: cert}, Options{}); !errors.Is(err, ErrUnsupportedKey) {
		t.Fatalf("got %v", err)
	}
}

func mustB64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
