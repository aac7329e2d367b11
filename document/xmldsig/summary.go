package xmldsig

import (
	"crypto/sha256"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"kyso.vn/kyso/document"
)

// Detail labels (message-table key suffixes for the dialog). Values come
// from the document and are not verified by anyone.
const (
	LabelInvoiceSeries = "invoiceSeries" // KHMSHDon + KHHDon, e.g. 1C23TAA
	LabelInvoiceNumber = "invoiceNumber" // SHDon
	LabelInvoiceDate   = "invoiceDate"   // NLap
	LabelSeller        = "seller"        // NBan/Ten
	LabelSellerTaxCode = "sellerTaxCode" // NBan/MST
	LabelBuyer         = "buyer"         // NMua/Ten
	LabelTotal         = "total"         // TToan/TgTTTBSo and DVTTe, e.g. 1.284.000 VND
	LabelInvoiceCount  = "invoiceCount"  // when the file holds several DLHDon
	LabelTaxForm       = "taxForm"       // TKhaiThue/tenTKhai (or maTKhai)
	LabelTaxPeriod     = "taxPeriod"     // KyKKhaiThue: kieuKy and kyKKhai, e.g. Q 2/2026
	LabelTaxpayer      = "taxpayer"      // NNT/tenNNT
	LabelTaxCode       = "taxCode"       // NNT/mst
)

// fields read for the summary: the element's path must end with the
// suffix (local names), the first such element counts.
var summaryFields = []struct{ key, suffix string }{
	{"KHMSHDon", "DLHDon/TTChung/KHMSHDon"},
	{"KHHDon", "DLHDon/TTChung/KHHDon"},
	{"SHDon", "DLHDon/TTChung/SHDon"},
	{"NLap", "DLHDon/TTChung/NLap"},
	{"DVTTe", "DLHDon/TTChung/DVTTe"},
	{"NBan", "DLHDon/NDHDon/NBan/Ten"},
	{"NBanMST", "DLHDon/NDHDon/NBan/MST"},
	{"NMua", "DLHDon/NDHDon/NMua/Ten"},
	{"TgTTTBSo", "DLHDon/NDHDon/TToan/TgTTTBSo"},
	{"tenTKhai", "TTinTKhaiThue/TKhaiThue/tenTKhai"},
	{"maTKhai", "TTinTKhaiThue/TKhaiThue/maTKhai"},
	{"kieuKy", "TKhaiThue/KyKKhaiThue/kieuKy"},
	{"kyKKhai", "TKhaiThue/KyKKhaiThue/kyKKhai"},
	{"tenNNT", "TTinTKhaiThue/NNT/tenNNT"},
	{"mst", "TTinTKhaiThue/NNT/mst"},
}

const maxField = 1024 // bytes of text kept per field

// fieldsByLocal indexes summaryFields by the suffix's last name, each
// suffix split into names, so an element costs one map lookup.
var fieldsByLocal = func() map[string][]fieldSuffix {
	m := map[string][]fieldSuffix{}
	for _, f := range summaryFields {
		steps := strings.Split(f.suffix, "/")
		last := steps[len(steps)-1]
		m[last] = append(m[last], fieldSuffix{f.key, steps})
	}
	return m
}()

type fieldSuffix struct {
	key   string
	steps []string
}

type summaryReader struct {
	values   map[string]string
	invoices int
	cur      string // key being read
	curDepth int
	buf      []byte
}

func newSummaryReader() *summaryReader {
	return &summaryReader{values: map[string]string{}}
}

func (r *summaryReader) start(s *scanner, f *frame) {
	if f.local == "DLHDon" {
		r.invoices++
	}
	if r.cur != "" {
		return
	}
	for _, fd := range fieldsByLocal[f.local] {
		if _, done := r.values[fd.key]; done || !pathEndsWith(s, fd.steps) {
			continue
		}
		r.cur, r.curDepth, r.buf = fd.key, s.depth(), r.buf[:0]
		return
	}
}

func pathEndsWith(s *scanner, steps []string) bool {
	if len(steps) > len(s.stack) {
		return false
	}
	for i, st := range steps {
		if s.stack[len(s.stack)-len(steps)+i].local != st {
			return false
		}
	}
	return true
}

func (r *summaryReader) text(t []byte) {
	if r.cur != "" && len(r.buf) < maxField {
		r.buf = append(r.buf, t[:min(len(t), maxField-len(r.buf))]...)
	}
}

func (r *summaryReader) end(s *scanner) {
	if r.cur != "" && s.depth() == r.curDepth {
		r.values[r.cur] = clean(string(r.buf))
		r.cur = ""
	}
}

// summary builds what the dialog shows.
func (r *summaryReader) summary(doc []byte, fileName string, root *frame) document.Summary {
	sum := document.Summary{
		Kind:     "xml",
		FileName: fileName,
		SHA256:   sha256.Sum256(doc),
	}
	if root != nil {
		sum.Title = qname(root.prefix, root.local)
	}
	v := r.values
	add := func(label, value string) {
		if value = clean(value); value != "" {
			sum.Details = append(sum.Details, document.Detail{Label: label, Value: value})
		}
	}
	if r.invoices > 1 {
		add(LabelInvoiceCount, strconv.Itoa(r.invoices))
	} else {
		add(LabelInvoiceSeries, v["KHMSHDon"]+v["KHHDon"])
		add(LabelInvoiceNumber, v["SHDon"])
		add(LabelInvoiceDate, v["NLap"])
		add(LabelSeller, v["NBan"])
		add(LabelSellerTaxCode, v["NBanMST"])
		add(LabelBuyer, v["NMua"])
		if t := v["TgTTTBSo"]; t != "" {
			add(LabelTotal, strings.TrimSpace(amount(t)+" "+v["DVTTe"]))
		}
	}
	form := v["tenTKhai"]
	if form == "" {
		form = v["maTKhai"]
	}
	add(LabelTaxForm, form)
	if p := v["kyKKhai"]; p != "" {
		add(LabelTaxPeriod, strings.TrimSpace(v["kieuKy"]+" "+p))
	}
	add(LabelTaxpayer, v["tenNNT"])
	add(LabelTaxCode, v["mst"])
	return sum
}

const maxDetailRunes = 120

// clean makes document text fit for one dialog line: whitespace runs
// become one space, control and format characters (bidi overrides
// included, which could make a line read backwards) are dropped, long
// values are cut.
func clean(v string) string {
	var b strings.Builder
	space := false
	n := 0
	for _, r := range strings.TrimSpace(v) {
		switch {
		case r == utf8.RuneError:
			continue
		case unicode.IsSpace(r):
			space = true
			continue
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			continue
		}
		if n >= maxDetailRunes {
			b.WriteString("…")
			break
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
			n++
		}
		space = false
		b.WriteRune(r)
		n++
	}
	return b.String()
}

var plainNumber = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// amount writes a plain decimal number the Vietnamese way (1.284.000,5);
// anything else is shown as written.
func amount(v string) string {
	v = strings.TrimSpace(v)
	if !plainNumber.MatchString(v) {
		return v
	}
	neg := strings.HasPrefix(v, "-")
	v = strings.TrimPrefix(v, "-")
	intPart, frac, _ := strings.Cut(v, ".")
	frac = strings.TrimRight(frac, "0")
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteByte(',')
		b.WriteString(frac)
	}
	return b.String()
}
