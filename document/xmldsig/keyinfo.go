package xmldsig

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// attrNames are the RFC 4514 short names Kyso writes in X509SubjectName,
// plus UID (Vietnamese certificates carry the tax code there, "MST:…")
// and E for the e-mail address, as Vietnamese signing tools show it.
var attrNames = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.5":                    "SERIALNUMBER",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.9":                    "STREET",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.12":                   "T",
	"2.5.4.17":                   "POSTALCODE",
	"0.9.2342.19200300.100.1.1":  "UID",
	"0.9.2342.19200300.100.1.25": "DC",
	"1.2.840.113549.1.9.1":       "E",
}

// subjectName is the certificate's subject as an RFC 4514 string (most
// specific first), UTF-8 kept as is so Vietnamese names stay readable.
// X509SubjectName is informative: receivers verify with X509Certificate.
func subjectName(cert *x509.Certificate) string {
	var rdns pkix.RDNSequence
	if rest, err := asn1.Unmarshal(cert.RawSubject, &rdns); err != nil || len(rest) > 0 {
		return cert.Subject.String()
	}
	var parts []string
	for i := len(rdns) - 1; i >= 0; i-- {
		var set []string
		for _, tv := range rdns[i] {
			name, known := attrNames[tv.Type.String()]
			str, isString := tv.Value.(string)
			if !known || !isString {
				der, err := asn1.Marshal(tv.Value)
				if err != nil {
					continue
				}
				set = append(set, tv.Type.String()+"=#"+hex.EncodeToString(der))
				continue
			}
			set = append(set, name+"="+escapeDN(str))
		}
		parts = append(parts, strings.Join(set, "+"))
	}
	return strings.Join(parts, ",")
}

// escapeDN escapes an attribute value as RFC 4514 §2.4 says.
func escapeDN(v string) string {
	var b strings.Builder
	for i, r := range v {
		switch {
		case r == 0:
			b.WriteString(`\00`)
			continue
		case strings.ContainsRune(`,+"\<>;`, r),
			i == 0 && (r == ' ' || r == '#'),
			i == len(v)-1 && r == ' ':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ecdsaRaw converts DER SEQUENCE{r, s} (what the token layer returns) to
// r‖s, each left-padded to size bytes.
func ecdsaRaw(der []byte, size int) ([]byte, error) {
	var rs struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &rs)
	if err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("xmldsig: the token's ECDSA signature is not DER SEQUENCE{r, s}: %v", err)
	}
	if rs.R.Sign() <= 0 || rs.S.Sign() <= 0 || len(rs.R.Bytes()) > size || len(rs.S.Bytes()) > size {
		return nil, errors.New("xmldsig: the token's ECDSA signature has r or s out of range")
	}
	out := make([]byte, 2*size)
	rs.R.FillBytes(out[:size])
	rs.S.FillBytes(out[size:])
	return out, nil
}
