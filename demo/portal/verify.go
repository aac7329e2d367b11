package portal

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Canonical builds the exact bytes the page hashes for a form: a fixed
// header line, then one "name:length:value\n" line per field in a fixed
// order, the length in UTF-8 bytes so that no value can spill into the next.
// The page (static/common.js, canonical()) builds the same bytes; the server
// recomputes them from what it received, so a field changed after signing
// fails verification.
func Canonical(header string, fields [][2]string) []byte {
	var b strings.Builder
	b.WriteString(header)
	b.WriteByte('\n')
	for _, f := range fields {
		b.WriteString(f[0])
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(len(f[1])))
		b.WriteByte(':')
		b.WriteString(f[1])
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// hashFor maps a protocol hash function name to Go's crypto.Hash. The demo
// page uses SHA-256; the others are accepted so the verifier is reusable.
func hashFor(name string) (crypto.Hash, error) {
	switch name {
	case "SHA-256":
		return crypto.SHA256, nil
	case "SHA-384":
		return crypto.SHA384, nil
	case "SHA-512":
		return crypto.SHA512, nil
	}
	return 0, fmt.Errorf("hàm băm không hỗ trợ: %q", name)
}

// digest hashes data with h (one of hashFor's).
func digest(h crypto.Hash, data []byte) []byte {
	switch h {
	case crypto.SHA384:
		s := sha512.Sum384(data)
		return s[:]
	case crypto.SHA512:
		s := sha512.Sum512(data)
		return s[:]
	}
	s := sha256.Sum256(data)
	return s[:]
}

// VerifyDigest checks sig over the already computed digest with the
// certificate's public key, under the protocol's scheme names: raw PKCS#1
// v1.5, PSS with salt length = hash length, or ECDSA as DER SEQUENCE{r, s}.
// The error text is Vietnamese: the page shows it as the reason.
func VerifyDigest(cert *x509.Certificate, scheme string, h crypto.Hash, dig, sig []byte) error {
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		switch scheme {
		case "", "RSASSA-PKCS1-v1_5":
			if err := rsa.VerifyPKCS1v15(pub, h, dig, sig); err != nil {
				return errors.New("chữ ký không khớp với dữ liệu và khóa công khai của chứng thư số (RSASSA-PKCS1-v1_5)")
			}
			return nil
		case "RSASSA-PSS":
			opts := &rsa.PSSOptions{SaltLength: h.Size(), Hash: h}
			if err := rsa.VerifyPSS(pub, h, dig, sig, opts); err != nil {
				return errors.New("chữ ký không khớp với dữ liệu và khóa công khai của chứng thư số (RSASSA-PSS)")
			}
			return nil
		}
		return fmt.Errorf("lược đồ ký %q không dùng được với khóa RSA", scheme)
	case *ecdsa.PublicKey:
		if scheme != "" && scheme != "ECDSA" {
			return fmt.Errorf("lược đồ ký %q không dùng được với khóa EC", scheme)
		}
		if !ecdsa.VerifyASN1(pub, dig, sig) {
			return errors.New("chữ ký không khớp với dữ liệu và khóa công khai của chứng thư số (ECDSA)")
		}
		return nil
	}
	return fmt.Errorf("loại khóa công khai không hỗ trợ: %T", cert.PublicKey)
}

// CertInfo is what the page shows about the signer's certificate.
type CertInfo struct {
	Holder    string `json:"holder"`  // subject common name, as written (with diacritics)
	Subject   string `json:"subject"` // the whole subject
	Issuer    string `json:"issuer"`
	Serial    string `json:"serialNumber"`
	NotBefore string `json:"notBefore"`
	NotAfter  string `json:"notAfter"`
	ID        string `json:"certificateId"` // hex SHA-256 of the DER
}

func certInfo(c *x509.Certificate) CertInfo {
	holder := c.Subject.CommonName
	if holder == "" {
		holder = c.Subject.String()
	}
	id := sha256.Sum256(c.Raw)
	return CertInfo{
		Holder:    holder,
		Subject:   c.Subject.String(),
		Issuer:    c.Issuer.String(),
		Serial:    strings.ToUpper(c.SerialNumber.Text(16)),
		NotBefore: c.NotBefore.UTC().Format(time.RFC3339),
		NotAfter:  c.NotAfter.UTC().Format(time.RFC3339),
		ID:        hex.EncodeToString(id[:]),
	}
}

// ChainResult says whether the certificate chains to a CA the token carried.
type ChainResult struct {
	Checked bool   `json:"checked"` // false: the page sent no chain
	OK      bool   `json:"ok"`
	Reason  string `json:"reason,omitempty"`
	Root    string `json:"root,omitempty"`
}

// checkChain verifies cert against the CA certificates sent with it (those
// kyso.getCertificate found on the token). A real portal anchors trust in its
// own list of accredited root CAs instead; the demo has only the token's.
func checkChain(cert *x509.Certificate, chain []*x509.Certificate, now time.Time) ChainResult {
	if len(chain) == 0 {
		return ChainResult{Reason: "trang không gửi chuỗi chứng thư (token không chứa chứng thư CA)"}
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	for _, c := range chain {
		if c.CheckSignatureFrom(c) == nil { // self-signed: an anchor
			roots.AddCert(c)
		} else {
			inter.AddCert(c)
		}
	}
	chains, err := cert.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return ChainResult{Checked: true, Reason: "chứng thư số không xác thực được tới CA trên token: " + err.Error()}
	}
	root := chains[0][len(chains[0])-1]
	return ChainResult{Checked: true, OK: true, Root: root.Subject.String()}
}

// checkCert applies the rules a signer's certificate must meet on its own:
// valid now, and allowed to sign (digitalSignature or nonRepudiation when
// key usage is present).
func checkCert(c *x509.Certificate, now time.Time) error {
	if now.Before(c.NotBefore) {
		return fmt.Errorf("chứng thư số chưa có hiệu lực (từ %s)", c.NotBefore.UTC().Format(time.RFC3339))
	}
	if now.After(c.NotAfter) {
		return fmt.Errorf("chứng thư số đã hết hạn (ngày %s)", c.NotAfter.UTC().Format(time.RFC3339))
	}
	if c.KeyUsage != 0 && c.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return errors.New("chứng thư số không có quyền ký (key usage)")
	}
	return nil
}

// parseCerts decodes the base64 DER certificate and chain the page sent.
func parseCerts(certB64 string, chainB64 []string) (*x509.Certificate, []*x509.Certificate, error) {
	der, err := base64.StdEncoding.DecodeString(certB64)
	if err != nil || len(der) == 0 {
		return nil, nil, errors.New("thiếu chứng thư số hoặc không phải base64")
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("chứng thư số không đọc được: %w", err)
	}
	var chain []*x509.Certificate
	for i, s := range chainB64 {
		if s == "" {
			continue
		}
		d, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, nil, fmt.Errorf("chứng thư CA thứ %d không phải base64", i+1)
		}
		c, err := x509.ParseCertificate(d)
		if err != nil {
			return nil, nil, fmt.Errorf("chứng thư CA thứ %d không đọc được: %w", i+1, err)
		}
		chain = append(chain, c)
	}
	return cert, chain, nil
}
