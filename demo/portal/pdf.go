package portal

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"time"
	"unicode/utf16"

	"kyso.vn/kyso/document/cms"
)

// maxSignedPDF bounds what the PDF page may post: the 64 MiB a document
// operation takes (DESIGN "Document operations") plus the signature's own
// incremental update (stamp font, certificates).
const maxSignedPDF = 64<<20 + 4<<20

// SamplePDF returns a one-page A4 PDF the PDF page offers as "văn bản mẫu",
// made here so that its licence is the repository's. Its /Title is
// Vietnamese (the signing dialog shows it); the page text is plain ASCII in
// a standard font. With minSize > 0 it also carries an incompressible
// image (seeded random grey pixels, drawn small) that brings the file to
// at least minSize bytes: the large-document tests sign those.
func SamplePDF(minSize int) []byte {
	content := "BT /F1 16 Tf 72 770 Td (CONG HOA XA HOI CHU NGHIA VIET NAM) Tj ET\n" +
		"BT /F1 12 Tf 72 745 Td (Doc lap - Tu do - Hanh phuc) Tj ET\n" +
		"BT /F1 14 Tf 72 700 Td (VAN BAN MAU - ban trinh dien ky so Kyso) Tj ET\n" +
		"BT /F1 11 Tf 72 670 Td (Van ban nay do cong dich vu cong demo tao ra de ky thu bang Kyso.) Tj ET\n" +
		"BT /F1 11 Tf 72 652 Td (Chu ky so PAdES duoc them vao cuoi tep, ban goc giu nguyen.) Tj ET\n"
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"", // the page, below: it names the image when there is one
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		"", // the content stream
		// /Title "Văn bản mẫu (Kyso demo)" as UTF-16BE with its BOM.
		"<< /Title <" + utf16Hex("Văn bản mẫu (Kyso demo)") + "> /Producer (Kyso demo portal) >>",
	}
	resources := "/Font << /F1 4 0 R >>"
	var image []byte
	if pad := minSize - 1200; pad > 0 {
		side := 1
		for side*side < pad {
			side++
		}
		image = make([]byte, side*side)
		r := rand.New(rand.NewPCG(13, 14))
		for i := 0; i+8 <= len(image); i += 8 {
			v := r.Uint64()
			for j := range 8 {
				image[i+j] = byte(v >> (8 * j))
			}
		}
		objs = append(objs, fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Length %d >>", side, side, len(image)))
		resources += " /XObject << /Im1 7 0 R >>"
		content += "q 120 0 0 120 72 480 cm /Im1 Do Q\n"
	}
	objs[2] = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << " + resources + " >> /Contents 5 0 R >>"
	objs[4] = fmt.Sprintf("<< /Length %d >>", len(content))

	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\n", i+1, o)
		switch i + 1 {
		case 5:
			b.WriteString("stream\n" + content + "endstream\n")
		case 7:
			b.WriteString("stream\n")
			b.Write(image)
			b.WriteString("\nendstream\n")
		}
		b.WriteString("endobj\n")
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

func utf16Hex(s string) string {
	out := "FEFF"
	for _, u := range utf16.Encode([]rune(s)) {
		out += fmt.Sprintf("%04X", u)
	}
	return out
}

// samplePDF serves SamplePDF as a download.
func (s *server) samplePDF(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="van-ban-mau.pdf"`)
	w.Write(SamplePDF(0))
}

// PDFResult is the PDF page's verification answer.
type PDFResult struct {
	Valid  bool   `json:"valid"`
	Reason string `json:"reason,omitempty"` // why not valid
	Size   int    `json:"size"`
	SHA256 string `json:"sha256,omitempty"` // hex, of the signed file
	// Signatures counts the signature dictionaries (a /ByteRange each).
	Signatures int `json:"signatures"`
	// WholeFile: the last signature's ByteRange covers the file from its
	// first byte to its last, except its own /Contents.
	WholeFile bool `json:"wholeFile"`
	// OriginalKept: the file the person chose is, byte for byte, the start
	// of the signed file (an incremental update left it as it was). Nil
	// when the page sent no hash of the original.
	OriginalKept *bool       `json:"originalKept,omitempty"`
	SubFilter    string      `json:"subFilter,omitempty"`
	HashFunction string      `json:"hashFunction,omitempty"`
	SigningTime  string      `json:"signingTime,omitempty"` // /M, RFC 3339
	SigReason    string      `json:"sigReason,omitempty"`   // /Reason
	Location     string      `json:"location,omitempty"`    // /Location
	Signer       *CertInfo   `json:"signer,omitempty"`
	Chain        ChainResult `json:"chain"`
}

// verifyPDF receives a signed PDF (the request body) and checks its last
// signature; ?goc=<hex SHA-256>&kichThuoc=<bytes> describe the original.
func (s *server) verifyPDF(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxSignedPDF)
	data, err := io.ReadAll(r.Body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, PDFResult{Reason: "không đọc được tệp PDF đã ký (quá lớn?): " + err.Error()})
		return
	}
	res := VerifyPDF(data, s.o.Now())
	if orig, size := r.URL.Query().Get("goc"), r.URL.Query().Get("kichThuoc"); orig != "" {
		kept := originalKept(data, orig, size)
		res.OriginalKept = &kept
		if !kept && res.Valid {
			res.Valid = false
			res.Reason = "phần đầu của tệp đã ký không còn là văn bản gốc bạn đã chọn"
		}
	}
	s.o.Log.Info().Bool("valid", res.Valid).Str("reason", res.Reason).Int("size", res.Size).
		Str("sha256", trunc(res.SHA256)).Msg("văn bản PDF")
	writeJSON(w, http.StatusOK, res)
}

func originalKept(data []byte, sumHex, sizeStr string) bool {
	n, err := strconv.Atoi(sizeStr)
	if err != nil || n <= 0 || n > len(data) {
		return false
	}
	sum := sha256.Sum256(data[:n])
	return hex.EncodeToString(sum[:]) == sumHex
}

var (
	byteRangeRE = regexp.MustCompile(`/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]`)
	subFilterRE = regexp.MustCompile(`/SubFilter\s*/([A-Za-z0-9.]+)`)
	mRE         = regexp.MustCompile(`/M\s*\(D:(\d{14})(Z|[+-]\d\d'\d\d'?)?\)`)
)

// VerifyPDF checks the last signature of a signed PDF the way a portal
// can without a PDF library: the last /ByteRange must run from the file's
// first byte to its last, leaving out exactly the hex string /Contents;
// that string is a CMS SignedData (document/cms Verify) whose
// message-digest is the digest of the two ranges and whose signature
// verifies with the signer's certificate; the certificate is valid now,
// may sign, and chains to a CA the CMS carries. A real portal anchors the
// chain in its own list of accredited CAs instead.
func VerifyPDF(data []byte, now time.Time) PDFResult {
	sum := sha256.Sum256(data)
	res := PDFResult{Size: len(data), SHA256: hex.EncodeToString(sum[:])}
	all := byteRangeRE.FindAllSubmatchIndex(data, -1)
	res.Signatures = len(all)
	if len(all) == 0 {
		res.Reason = "tệp không có chữ ký số (không thấy /ByteRange)"
		return res
	}
	last := all[len(all)-1]
	var br [4]int
	for i := range br {
		v, err := strconv.Atoi(string(data[last[2+2*i]:last[3+2*i]]))
		if err != nil {
			res.Reason = "/ByteRange không đọc được"
			return res
		}
		br[i] = v
	}
	a, b, c, d := br[0], br[1], br[2], br[3]
	if a != 0 || b <= 0 || c <= b+1 || d < 0 || c+d != len(data) {
		res.Reason = fmt.Sprintf("chữ ký không bao trùm toàn bộ tệp: /ByteRange [%d %d %d %d], tệp dài %d byte", a, b, c, d, len(data))
		return res
	}
	hole := data[b:c]
	if hole[0] != '<' || hole[len(hole)-1] != '>' {
		res.Reason = "phần không được ký không phải đúng chuỗi /Contents"
		return res
	}
	der, err := hex.DecodeString(string(hole[1 : len(hole)-1]))
	if err != nil {
		res.Reason = "/Contents không phải chuỗi hex"
		return res
	}
	res.WholeFile = true
	// The signature dictionary is around the ByteRange: read its other
	// entries from the bytes the signature covers, before /Contents' end.
	dict := sigDictAround(data, last[0])
	if m := subFilterRE.FindSubmatch(dict); m != nil {
		res.SubFilter = string(m[1])
	}
	if m := mRE.FindSubmatch(dict); m != nil {
		res.SigningTime = pdfTime(string(m[1]), string(m[2]))
	}
	res.SigReason = pdfTextEntry(dict, "/Reason")
	res.Location = pdfTextEntry(dict, "/Location")

	signed, err := verifyCMS(trimDER(der), data[:b], data[c:])
	if err != nil {
		res.Reason = "chữ ký CMS không hợp lệ: " + err.Error()
		return res
	}
	res.HashFunction = hashName(signed.Hash)
	info := certInfo(signed.Signer)
	res.Signer = &info
	var cas []*x509.Certificate
	for _, c := range signed.Certificates {
		if !c.Equal(signed.Signer) {
			cas = append(cas, c)
		}
	}
	res.Chain = checkChain(signed.Signer, cas, now)
	if err := checkCert(signed.Signer, now); err != nil {
		res.Reason = err.Error()
		return res
	}
	if res.Chain.Checked && !res.Chain.OK {
		res.Reason = res.Chain.Reason
		return res
	}
	if res.SubFilter != "ETSI.CAdES.detached" {
		res.Reason = fmt.Sprintf("/SubFilter là %q, không phải ETSI.CAdES.detached (PAdES)", res.SubFilter)
		return res
	}
	res.Valid = true
	return res
}

// verifyCMS verifies der over the two signed ranges, trying the hash
// functions a PAdES signature may use (cms.Verify wants the content's
// digest made with the SignerInfo's own hash).
func verifyCMS(der, part1, part2 []byte) (*cms.Signed, error) {
	var first error
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		hh := h.New()
		hh.Write(part1)
		hh.Write(part2)
		signed, err := cms.Verify(der, hh.Sum(nil))
		if err == nil {
			return signed, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// trimDER cuts the zero padding after the DER SEQUENCE /Contents holds.
func trimDER(b []byte) []byte {
	if len(b) < 2 || b[0] != 0x30 {
		return b
	}
	n, hdr := int(b[1]), 2
	if b[1]&0x80 != 0 {
		k := int(b[1] & 0x7f)
		if k == 0 || k > 4 || len(b) < 2+k {
			return b
		}
		n = 0
		for _, x := range b[2 : 2+k] {
			n = n<<8 | int(x)
		}
		hdr = 2 + k
	}
	if hdr+n > len(b) {
		return b
	}
	return b[:hdr+n]
}

// sigDictAround returns the bytes of the dictionary that holds the
// ByteRange at pos: from the last "<<" before it to the first ">>" after
// its /Contents (enough for the flat entries Kyso and others write).
func sigDictAround(data []byte, pos int) []byte {
	start := bytes.LastIndex(data[:pos], []byte("/Type /Sig"))
	if start < 0 {
		start = max(0, pos-4096)
	}
	end := min(len(data), pos+4096)
	if i := bytes.Index(data[pos:end], []byte("/Contents")); i >= 0 {
		if j := bytes.IndexByte(data[pos+i:], '>'); j >= 0 {
			end = min(len(data), pos+i+j+4096)
		}
	}
	if k := bytes.Index(data[pos:end], []byte(">>\nendobj")); k >= 0 {
		end = pos + k
	}
	return data[start:end]
}

func hashName(h crypto.Hash) string {
	switch h {
	case crypto.SHA384:
		return "SHA-384"
	case crypto.SHA512:
		return "SHA-512"
	}
	return "SHA-256"
}

// pdfTime turns a PDF date's digits and zone into RFC 3339.
func pdfTime(digits, zone string) string {
	t, err := time.Parse("20060102150405", digits)
	if err != nil {
		return ""
	}
	if len(zone) >= 6 {
		hh, _ := strconv.Atoi(zone[1:3])
		mm, _ := strconv.Atoi(zone[4:6])
		off := hh*3600 + mm*60
		if zone[0] == '-' {
			off = -off
		}
		t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.FixedZone("", off))
	}
	return t.Format(time.RFC3339)
}

// pdfTextEntry reads the text string after key in dict: a literal (…)
// with its escapes or a hex <…>, PDFDocEncoding (ASCII here) or UTF-16BE
// with a byte-order mark.
func pdfTextEntry(dict []byte, key string) string {
	i := bytes.Index(dict, []byte(key))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(dict[i+len(key):], " \r\n\t")
	raw, err := pdfString(rest)
	if err != nil {
		return ""
	}
	if len(raw) >= 2 && raw[0] == 0xfe && raw[1] == 0xff {
		u := make([]uint16, 0, len(raw)/2)
		for j := 2; j+1 < len(raw); j += 2 {
			u = append(u, uint16(raw[j])<<8|uint16(raw[j+1]))
		}
		return string(utf16.Decode(u))
	}
	return string(raw)
}

func pdfString(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, errors.New("no string")
	}
	switch b[0] {
	case '<':
		end := bytes.IndexByte(b, '>')
		if end < 0 {
			return nil, errors.New("unterminated hex string")
		}
		h := bytes.Map(func(r rune) rune {
			if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
				return -1
			}
			return r
		}, b[1:end])
		if len(h)%2 == 1 {
			h = append(h, '0')
		}
		return hex.DecodeString(string(h))
	case '(':
		var out []byte
		depth := 0
		for i := 1; i < len(b); i++ {
			switch c := b[i]; c {
			case '\\':
				i++
				if i >= len(b) {
					return nil, errors.New("unterminated string")
				}
				switch e := b[i]; e {
				case 'n':
					out = append(out, '\n')
				case 'r':
					out = append(out, '\r')
				case 't':
					out = append(out, '\t')
				case 'b':
					out = append(out, '\b')
				case 'f':
					out = append(out, '\f')
				case '\r', '\n':
					// a line continuation
				default:
					if e >= '0' && e <= '7' {
						v := 0
						for k := 0; k < 3 && i < len(b) && b[i] >= '0' && b[i] <= '7'; k++ {
							v = v*8 + int(b[i]-'0')
							i++
						}
						i--
						out = append(out, byte(v))
					} else {
						out = append(out, e)
					}
				}
			case '(':
				depth++
				out = append(out, c)
			case ')':
				if depth == 0 {
					return out, nil
				}
				depth--
				out = append(out, c)
			default:
				out = append(out, c)
			}
		}
		return nil, errors.New("unterminated string")
	}
	return nil, errors.New("not a string")
}
