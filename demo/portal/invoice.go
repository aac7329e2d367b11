package portal

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// maxInvoice bounds a posted invoice (the XML and the CA chain, as JSON).
const maxInvoice = 4 << 20

const nsDSig = "http://www.w3.org/2000/09/xmldsig#"

// Invoice is what the invoice page shows from a signed e-invoice: read
// from its DLHDon, the element the seller's signature covers.
type Invoice struct {
	ID            string `json:"id"`     // DLHDon's Id
	Series        string `json:"series"` // KHMSHDon + KHHDon, e.g. 1C26TKY
	Number        string `json:"number"` // SHDon
	Date          string `json:"date"`   // NLap
	Seller        string `json:"seller"`
	SellerTaxCode string `json:"sellerTaxCode"`
	Buyer         string `json:"buyer"`
	Total         string `json:"total"` // TgTTTBSo, in Currency
	Currency      string `json:"currency"`
}

// InvoiceResult is the invoice page's verification answer.
type InvoiceResult struct {
	Valid       bool        `json:"valid"`
	Reason      string      `json:"reason,omitempty"`
	Invoice     *Invoice    `json:"invoice,omitempty"`
	Reference   string      `json:"reference,omitempty"`   // the signature's first Reference URI
	SigningTime string      `json:"signingTime,omitempty"` // SignatureProperty/SigningTime, as written
	Signer      *CertInfo   `json:"signer,omitempty"`
	Chain       ChainResult `json:"chain"`
	Verifier    string      `json:"verifier,omitempty"` // what checked the XML signature
}

// InvoiceRequest is what the invoice page posts after kyso.signXml: the
// signed XML, and the CA certificates kyso.getCertificate found on the
// token (base64 DER), which the demo trusts as a real portal would trust
// its list of accredited CAs.
type InvoiceRequest struct {
	XML   string   `json:"xml"`
	Chain []string `json:"chain"`
}

func (s *server) verifyInvoice(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxInvoice)
	var req InvoiceRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, InvoiceResult{Reason: "yêu cầu không đọc được: " + err.Error()})
		return
	}
	res := s.VerifyInvoice(r.Context(), []byte(req.XML), req.Chain)
	s.o.Log.Info().Bool("valid", res.Valid).Str("reason", res.Reason).Msg("hóa đơn điện tử")
	writeJSON(w, http.StatusOK, res)
}

// VerifyInvoice checks the seller's enveloped signature of a TT78
// e-invoice: the Signature in HDon/DSCKS/NBan signs #Id of the one DLHDon;
// xmlsec1 (Debian's xmlsec1, an XML-DSig implementation apart from Kyso's)
// verifies it against the CA certificates given; Go checks the
// certificate. The demo has no XML-DSig verifier of its own: Kyso's
// document/xmldsig signs but does not verify.
func (s *server) VerifyInvoice(ctx context.Context, doc []byte, chainB64 []string) InvoiceResult {
	var res InvoiceResult
	inv, sig, err := readInvoice(doc)
	if err != nil {
		res.Reason = err.Error()
		return res
	}
	res.Invoice = inv
	res.Reference, res.SigningTime = sig.reference, sig.signingTime
	if sig.reference != "#"+inv.ID {
		res.Reason = fmt.Sprintf("chữ ký của người bán ký %q, không phải dữ liệu hóa đơn #%s", sig.reference, inv.ID)
		return res
	}
	cert, chain, err := parseCerts(sig.certificate, chainB64)
	if err != nil {
		res.Reason = "KeyInfo: " + err.Error()
		return res
	}
	info := certInfo(cert)
	res.Signer = &info
	now := s.o.Now()
	res.Chain = checkChain(cert, chain, now)
	if err := checkCert(cert, now); err != nil {
		res.Reason = err.Error()
		return res
	}
	if !res.Chain.OK {
		res.Reason = res.Chain.Reason
		return res
	}
	res.Verifier = "xmlsec1 --verify"
	if err := xmlsecVerify(ctx, doc, sig.id, chain); err != nil {
		res.Reason = err.Error()
		return res
	}
	res.Valid = true
	return res
}

// sellerSig is what readInvoice found of the seller's signature.
type sellerSig struct {
	id, reference, certificate, signingTime string
}

// readInvoice reads an e-invoice with encoding/xml (which processes no DTD
// and no external entity; a DOCTYPE is refused outright): the fields of its
// DLHDon, which must be the only one, and the seller's Signature.
func readInvoice(doc []byte) (*Invoice, *sellerSig, error) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	var path []string
	inv := &Invoice{}
	var sig *sellerSig
	var form, symbol string // KHMSHDon and KHHDon: the series is the two joined
	fields := map[string]*string{
		"HDon/DLHDon/TTChung/KHMSHDon":      &form,
		"HDon/DLHDon/TTChung/KHHDon":        &symbol,
		"HDon/DLHDon/TTChung/SHDon":         &inv.Number,
		"HDon/DLHDon/TTChung/NLap":          &inv.Date,
		"HDon/DLHDon/TTChung/DVTTe":         &inv.Currency,
		"HDon/DLHDon/NDHDon/NBan/Ten":       &inv.Seller,
		"HDon/DLHDon/NDHDon/NBan/MST":       &inv.SellerTaxCode,
		"HDon/DLHDon/NDHDon/NMua/Ten":       &inv.Buyer,
		"HDon/DLHDon/NDHDon/TToan/TgTTTBSo": &inv.Total,
	}
	dlhdon, sigs := 0, 0
	inSig := false
	refs := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("XML không đọc được: %w", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, nil, errors.New("hóa đơn có DOCTYPE: không nhận")
		case xml.StartElement:
			path = append(path, t.Name.Local)
			p := strings.Join(path, "/")
			switch {
			case p == "HDon/DLHDon":
				dlhdon++
				inv.ID = attr(t, "Id")
			case t.Name.Local == "DLHDon":
				dlhdon++ // a DLHDon elsewhere: a wrapping attempt
			case t.Name.Space == nsDSig && t.Name.Local == "Signature" && p == "HDon/DSCKS/NBan/Signature":
				sigs++
				inSig = true
				sig = &sellerSig{id: attr(t, "Id")}
				refs = 0
			case inSig && t.Name.Local == "Reference" && t.Name.Space == nsDSig:
				if refs == 0 {
					sig.reference = attr(t, "URI")
				}
				refs++
			}
		case xml.EndElement:
			if t.Name.Space == nsDSig && t.Name.Local == "Signature" {
				inSig = false
			}
			path = path[:len(path)-1]
		case xml.CharData:
			if len(path) == 0 {
				continue
			}
			p := strings.Join(path, "/")
			v := strings.TrimSpace(string(t))
			if dst, ok := fields[p]; ok {
				*dst = v
			}
			if inSig && strings.HasSuffix(p, "/KeyInfo/X509Data/X509Certificate") {
				sig.certificate = strings.Join(strings.Fields(string(t)), "")
			}
			if inSig && strings.HasSuffix(p, "/SignatureProperty/SigningTime") {
				sig.signingTime = v
			}
		}
	}
	inv.Series = form + symbol
	switch {
	case dlhdon != 1 || inv.ID == "":
		return nil, nil, fmt.Errorf("hóa đơn phải có đúng một HDon/DLHDon có Id (thấy %d)", dlhdon)
	case sigs != 1:
		return inv, nil, fmt.Errorf("không thấy đúng một chữ ký của người bán trong HDon/DSCKS/NBan (thấy %d)", sigs)
	case sig.certificate == "":
		return inv, nil, errors.New("chữ ký của người bán không mang chứng thư (KeyInfo/X509Certificate)")
	}
	return inv, sig, nil
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Space == "" && a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// xmlsecVerify runs xmlsec1 --verify on the signature with Id sigID,
// trusting only the given CA certificates, references within the document
// only. DLHDon's Id and the dsig
// Signature's Id are declared as XML IDs (xmlsec1 knows no schema).
func xmlsecVerify(ctx context.Context, doc []byte, sigID string, cas []*x509.Certificate) error {
	bin, err := exec.LookPath("xmlsec1")
	if err != nil {
		return errors.New("máy chủ demo cần xmlsec1 để kiểm tra chữ ký XML (gói Debian xmlsec1): chưa cài")
	}
	dir, err := os.MkdirTemp("", "kyso-demo-xml-")
	if err != nil {
		return fmt.Errorf("thư mục tạm: %w", err)
	}
	defer os.RemoveAll(dir)
	f := filepath.Join(dir, "hoa-don.xml")
	if err := os.WriteFile(f, doc, 0o600); err != nil {
		return fmt.Errorf("ghi tệp tạm: %w", err)
	}
	// Only references inside the document (a hostile invoice could name a
	// file or a URL), and the key only from the X.509 certificate.
	args := []string{"--verify", "--enabled-reference-uris", "empty,same-doc", "--enabled-key-data", "x509"}
	for i, c := range cas {
		p := filepath.Join(dir, fmt.Sprintf("ca-%d.pem", i))
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o600); err != nil {
			return fmt.Errorf("ghi tệp tạm: %w", err)
		}
		args = append(args, "--trusted-pem", p)
	}
	args = append(args, "--id-attr:Id", "DLHDon", "--id-attr:Id", nsDSig+":Signature")
	if sigID != "" {
		args = append(args, "--node-id", sigID)
	}
	args = append(args, f)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("xmlsec1 không xác nhận chữ ký: %s", lastLines(string(out), 3))
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}
