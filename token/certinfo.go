package token

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"strings"
)

// KeyDescription names a certificate's key for people: "RSA 2048",
// "EC P-256".
func KeyDescription(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "EC " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return c.PublicKeyAlgorithm.String()
}

// NameString is a distinguished name for people, most specific first
// ("CN=NGUYỄN VĂN AN, O=…"), with the text as UTF-8. Unlike
// pkix.Name.String it never shows attributes as #hex: Vietnamese names
// sometimes sit in BMPString or other types Go keeps only as raw values.
func NameString(n pkix.Name) string {
	var parts []string
	// n.Names holds every attribute of the subject, in DER order
	// (least specific first).
	for i := len(n.Names) - 1; i >= 0; i-- {
		a := n.Names[i]
		parts = append(parts, attrName(a.Type.String())+"="+escapeDN(fmt.Sprint(a.Value)))
	}
	if len(parts) == 0 {
		return n.String()
	}
	return strings.Join(parts, ", ")
}

var attrNames = map[string]string{
	"2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O",
	"2.5.4.11": "OU", "2.5.4.5": "SERIALNUMBER", "2.5.4.9": "STREET", "2.5.4.12": "T",
	"2.5.4.4": "SN", "2.5.4.42": "GN", "0.9.2342.19200300.100.1.1": "UID",
	"1.2.840.113549.1.9.1": "E",
}

func attrName(oid string) string {
	if n, ok := attrNames[oid]; ok {
		return n
	}
	return oid
}

// escapeDN escapes the RFC 4514 specials only; letters outside ASCII stay.
func escapeDN(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case strings.ContainsRune(",+\"\\<>;=", r),
			i == 0 && (r == '#' || r == ' '),
			i == len(s)-1 && r == ' ':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
