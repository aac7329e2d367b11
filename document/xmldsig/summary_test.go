package xmldsig

import (
	"crypto/sha256"
	"reflect"
	"strings"
	"testing"

	"kyso.vn/kyso/document"
)

func TestSummary(t *testing.T) {
	cases := []struct {
		fixture string
		opts    Options
		title   string
		details []document.Detail
	}{
		{"invoice.xml", Options{FileName: "hd-123.xml", Reference: invoiceID, Parent: "/HDon/DSCKS/NBan"}, "HDon", []document.Detail{
			det(LabelInvoiceSeries, "1C26TKY"),
			det(LabelInvoiceNumber, "123"),
			det(LabelInvoiceDate, "2026-03-14"),
			det(LabelSeller, "Công ty Cổ phần Kiểm thử Kyso"),
			det(LabelSellerTaxCode, "0100109106"),
			det(LabelBuyer, "Công ty TNHH Thương mại Ánh Dương & Cộng sự"),
			det(LabelTotal, "1.296.000 VND"),
		}},
		{"invoice-ns.xml", Options{FileName: "ts24.xml", Reference: invoiceNSID, Parent: "/HDon/DSCKS/NBan"}, "HDon", []document.Detail{
			det(LabelInvoiceSeries, "1C26TTS"),
			det(LabelInvoiceNumber, "14"),
			det(LabelInvoiceDate, "2026-03-14"),
			det(LabelSeller, "Mã số Thuế Kiểm thử 109"),
			det(LabelSellerTaxCode, "0106324653"),
			det(LabelBuyer, "Công ty thử nghiệm"),
			det(LabelTotal, "1.320.000 đ"),
		}},
		{"tokhai.xml", Options{FileName: "01_GTGT.xml", Reference: "#ID_1", Parent: "/HSoThueDTu/CKyDTu"}, "HSoThueDTu", []document.Detail{
			det(LabelTaxForm, "TỜ KHAI THUẾ GIÁ TRỊ GIA TĂNG (Mẫu số 01/GTGT)"),
			det(LabelTaxPeriod, "Q 1/2026"),
			det(LabelTaxpayer, "Công ty Cổ phần Kiểm thử Kyso"),
			det(LabelTaxCode, "0100109106"),
		}},
	}
	for _, c := range cases {
		in := readFixture(t, c.fixture)
		p, err := Prepare(in, signerFor(t, "rsa"), c.opts)
		if err != nil {
			t.Fatal(err)
		}
		got := p.Summary()
		want := document.Summary{Kind: "xml", FileName: c.opts.FileName, Title: c.title, SHA256: sha256.Sum256(in), Details: c.details}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.fixture, got, want)
		}
	}
}

// The dialog shows only what is signed: signing MCCQT shows no invoice
// details even though the file has them.
func TestSummaryOnlyOfSignedPart(t *testing.T) {
	p, err := Prepare(readFixture(t, "invoice-ns.xml"), signerFor(t, "rsa"), Options{Reference: mccqtID, Parent: "/HDon/DSCKS/CQT"})
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Summary().Details; len(d) != 0 {
		t.Fatalf("details of unsigned content: %+v", d)
	}
}

// A file of several invoices is summarised by their count: the first
// one's number would misname what is signed.
func TestSummaryInvoiceList(t *testing.T) {
	doc := `<DSHDon Id="all"><HDon><DLHDon><TTChung><SHDon>1</SHDon></TTChung></DLHDon></HDon><HDon><DLHDon><TTChung><SHDon>2</SHDon></TTChung></DLHDon></HDon><S/></DSHDon>`
	p, err := Prepare([]byte(doc), signerFor(t, "rsa"), Options{Reference: "#all", Parent: "/DSHDon/S"})
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Summary().Details; !reflect.DeepEqual(d, []document.Detail{det(LabelInvoiceCount, "2")}) {
		t.Fatalf("details %+v", d)
	}
}

// Document text is made fit for one dialog line: no control or bidi
// characters, whitespace collapsed, long values cut.
func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"  Công\n\t ty  ":                  "Công ty",
		"abc\u202edcba":                    "abcdcba",
		"a\u200bb\x00c\x1bd":               "abcd",
		strings.Repeat("đ", 200):           strings.Repeat("đ", maxDetailRunes) + "…",
		"\u2066\u2067\u2068\u2069\u200f x": "x",
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"1296000":      "1.296.000",
		"99000.000000": "99.000",
		"84000.5":      "84.000,5",
		"-1446670":     "-1.446.670",
		"0":            "0",
		"007":          "7",
		"1,296,000":    "1,296,000",
		"abc":          "abc",
	} {
		if got := amount(in); got != want {
			t.Errorf("amount(%q) = %q, want %q", in, got, want)
		}
	}
}

func det(label, value string) document.Detail { return document.Detail{Label: label, Value: value} }
