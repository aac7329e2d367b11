// Package cms builds a detached CMS SignedData (RFC 5652) in the CAdES-BES
// profile (ETSI EN 319 122-1) from a digest the caller computed: the
// signCms operation's .p7s, and the /Contents of a PAdES signature.
//
// Signed attributes: content-type (id-data), message-digest,
// signing-certificate-v2 (ESSCertIDv2, SHA-256, with issuerSerial) and, when
// asked, signing-time (signCms has it; PAdES forbids it, the time is in the
// PDF's /M). The signer's certificate and its chain go in certificates.
// The token signs the digest of the DER SET OF signed attributes; with a
// Timestamper, Finish adds the RFC 3161 token over the signature value as
// the unsigned attribute signature-time-stamp-token (CAdES-T, PAdES B-T).
//
// Algorithms follow common practice (BouncyCastle, Adobe): the SignerInfo's
// signatureAlgorithm is rsaEncryption for RSA PKCS#1 v1.5 keys and
// ecdsa-with-SHA* for ECDSA keys; digest AlgorithmIdentifiers carry no
// parameters (RFC 5754).
package cms

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"kyso.vn/kyso/document"
)

// Object identifiers used here.
var (
	oidData               = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidAttrContentType    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidAttrMessageDigest  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidAttrSigningTime    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidAttrSigningCertV2  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidAttrTimestampToken = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	oidRSAEncryption      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidSHA256             = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384             = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512             = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidECDSAWithSHA256    = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA384    = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSAWithSHA512    = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidSHA256WithRSA      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
)

// ErrUnsupported is returned by Prepare for a certificate whose key is
// neither RSA nor ECDSA, or a hash other than SHA-256/384/512: the engine
// answers UNSUPPORTED_ALGORITHM.
var ErrUnsupported = errors.New("cms: only RSA and ECDSA keys with SHA-256, SHA-384 or SHA-512")

// TimestampAllowance is the room MaxSize keeps for a signature timestamp
// token (a TSA's token with its certificate chain is typically 3–7 KiB).
const TimestampAllowance = 16 << 10

// Options says what goes into the SignedData besides the mandatory parts.
type Options struct {
	// SigningTime adds the signing-time attribute (Signer.Time). signCms
	// sets it; PAdES must not (ETSI EN 319 142-1 puts the time in /M).
	SigningTime bool
	// Timestamper, when set, makes Finish ask for an RFC 3161 token over
	// the signature value and add it as signature-time-stamp-token.
	Timestamper document.Timestamper
	// FileName is shown in the Summary (signCms's optional fileName).
	FileName string
}

func hashOID(h crypto.Hash) (asn1.ObjectIdentifier, bool) {
	switch h {
	case crypto.SHA256:
		return oidSHA256, true
	case crypto.SHA384:
		return oidSHA384, true
	case crypto.SHA512:
		return oidSHA512, true
	}
	return nil, false
}

// sigAlg is the SignerInfo's signatureAlgorithm for the signer's key.
func sigAlg(pub crypto.PublicKey, h crypto.Hash) (oid asn1.ObjectIdentifier, nullParams bool, err error) {
	switch pub.(type) {
	case *rsa.PublicKey:
		return oidRSAEncryption, true, nil
	case *ecdsa.PublicKey:
		switch h {
		case crypto.SHA256:
			return oidECDSAWithSHA256, false, nil
		case crypto.SHA384:
			return oidECDSAWithSHA384, false, nil
		case crypto.SHA512:
			return oidECDSAWithSHA512, false, nil
		}
	}
	return nil, false, ErrUnsupported
}

// maxSignatureLen is the longest signature the key can produce (ECDSA's
// DER length varies with the leading bits of r and s).
func maxSignatureLen(pub crypto.PublicKey) int {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return (k.N.BitLen() + 7) / 8
	case *ecdsa.PublicKey:
		n := (k.Curve.Params().N.BitLen()+7)/8 + 1 // +1: a leading zero
		one := 2 + n
		if n >= 128 {
			one++
		}
		body := 2 * one
		if body >= 128 {
			return body + 3
		}
		return body + 2
	}
	return 0
}

// Prepare readies a detached CAdES-BES SignedData over content whose digest
// (made with h) is given. The token then signs Digest(); Finish builds the
// DER ContentInfo. The digest is copied.
func Prepare(digest []byte, h crypto.Hash, signer document.Signer, o Options) (document.Prepared, error) {
	p, err := prepare(digest, h, signer, o)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// prepared is Prepare's result.
type prepared struct {
	signer     document.Signer
	h          crypto.Hash
	content    []byte // the content digest
	attrs      []byte // DER SET OF Attribute (tag 0x31)
	attrDigest []byte
	opts       Options
}

func prepare(digest []byte, h crypto.Hash, signer document.Signer, o Options) (*prepared, error) {
	if signer.Cert == nil {
		return nil, errors.New("cms: no signer certificate")
	}
	if _, ok := hashOID(h); !ok {
		return nil, ErrUnsupported
	}
	if _, _, err := sigAlg(signer.Cert.PublicKey, h); err != nil {
		return nil, err
	}
	if len(digest) != h.Size() {
		return nil, fmt.Errorf("cms: digest of %d bytes for %v (%d)", len(digest), h, h.Size())
	}
	attrs, err := signedAttrs(digest, signer, o.SigningTime)
	if err != nil {
		return nil, err
	}
	hh := h.New()
	hh.Write(attrs)
	return &prepared{signer: signer, h: h, content: bytes.Clone(digest), attrs: attrs, attrDigest: hh.Sum(nil), opts: o}, nil
}

func (p *prepared) Summary() document.Summary {
	s := document.Summary{Kind: "cms", FileName: p.opts.FileName}
	if p.h == crypto.SHA256 {
		copy(s.SHA256[:], p.content)
	} else {
		// The dialog's SHA-256 prefix cannot be known from another hash:
		// the digest itself is shown as a detail instead.
		s.Details = []document.Detail{{Label: "digest", Value: fmt.Sprintf("%v %x", p.h, p.content)}}
	}
	return s
}

func (p *prepared) Digest() []byte    { return bytes.Clone(p.attrDigest) }
func (p *prepared) Hash() crypto.Hash { return p.h }

// Finish checks the token's signature against the certificate (a token
// that signed with another key, or returned garbage, must not yield a CMS
// that fails later at the portal), asks for the timestamp if configured,
// and returns the DER ContentInfo.
func (p *prepared) Finish(ctx context.Context, signature []byte) ([]byte, error) {
	if err := checkSignature(p.signer.Cert.PublicKey, p.h, p.attrDigest, signature); err != nil {
		return nil, err
	}
	var unsigned []byte
	if p.opts.Timestamper != nil {
		tsDigest := sha256.Sum256(signature)
		tok, err := p.opts.Timestamper.Timestamp(ctx, tsDigest[:], crypto.SHA256)
		if err != nil {
			if !document.IsCode(err, document.CodeTimestampFailed) {
				err = &document.Error{Code: document.CodeTimestampFailed, Reason: "the timestamp authority failed", Err: err}
			}
			return nil, err
		}
		unsigned = attribute(oidAttrTimestampToken, tok)
	}
	return p.build(signature, unsigned)
}

// checkSignature verifies sig over digest with pub.
func checkSignature(pub crypto.PublicKey, h crypto.Hash, digest, sig []byte) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if err := rsa.VerifyPKCS1v15(k, h, digest, sig); err != nil {
			return fmt.Errorf("cms: the token's signature does not verify with the certificate: %w", err)
		}
		return nil
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, digest, sig) {
			return errors.New("cms: the token's signature does not verify with the certificate")
		}
		return nil
	}
	return ErrUnsupported
}

// MaxSize is an upper bound of the DER length Finish returns for this
// signer, hash and options (with TimestampAllowance when o.Timestamper is
// set): what a PDF's /Contents placeholder must hold. It is computed by
// building the SignedData with the longest signature the key can make.
func MaxSize(signer document.Signer, h crypto.Hash, o Options) (int, error) {
	if signer.Cert == nil {
		return 0, errors.New("cms: no signer certificate")
	}
	if _, ok := hashOID(h); !ok {
		return 0, ErrUnsupported
	}
	p, err := prepare(make([]byte, h.Size()), h, signer, o)
	if err != nil {
		return 0, err
	}
	n := maxSignatureLen(signer.Cert.PublicKey)
	var unsigned []byte
	if o.Timestamper != nil {
		unsigned = attribute(oidAttrTimestampToken, make([]byte, TimestampAllowance))
	}
	der, err := p.build(make([]byte, n), unsigned)
	if err != nil {
		return 0, err
	}
	// The signature's length prefix and the DER lengths around it can only
	// shrink with a shorter signature; a few bytes of slack for safety.
	return len(der) + 16, nil
}

// build assembles ContentInfo{signedData, SignedData}.
func (p *prepared) build(signature, unsignedAttr []byte) ([]byte, error) {
	hOID, _ := hashOID(p.h)
	algOID, null, err := sigAlg(p.signer.Cert.PublicKey, p.h)
	if err != nil {
		return nil, err
	}
	certs := [][]byte{p.signer.Cert.Raw}
	for _, c := range p.signer.Chain {
		if c != nil && !bytes.Equal(c.Raw, p.signer.Cert.Raw) && !slices.ContainsFunc(certs, func(b []byte) bool { return bytes.Equal(b, c.Raw) }) {
			certs = append(certs, c.Raw)
		}
	}
	// certificates is a SET OF: DER orders it by encoding.
	slices.SortFunc(certs, bytes.Compare)

	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ContentInfo
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignedData
				b.AddASN1Int64(1)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { algorithmID(b, hOID, false) })
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) })
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					for _, c := range certs {
						b.AddBytes(c)
					}
				})
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignerInfo
						b.AddASN1Int64(1)
						issuerAndSerial(b, p.signer.Cert)
						algorithmID(b, hOID, false)
						// signedAttrs [0] IMPLICIT: the SET's content under tag [0].
						b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
							b.AddBytes(setContent(p.attrs))
						})
						algorithmID(b, algOID, null)
						b.AddASN1OctetString(signature)
						if unsignedAttr != nil {
							b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
								b.AddBytes(unsignedAttr)
							})
						}
					})
				})
			})
		})
	})
	return b.Bytes()
}

// setContent strips the tag and length of a DER SET.
func setContent(set []byte) []byte {
	s := cryptobyte.String(set)
	var inner cryptobyte.String
	s.ReadASN1(&inner, cbasn1.SET)
	return inner
}

func algorithmID(b *cryptobyte.Builder, oid asn1.ObjectIdentifier, nullParams bool) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		if nullParams {
			b.AddASN1NULL()
		}
	})
}

func issuerAndSerial(b *cryptobyte.Builder, c *x509.Certificate) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(c.RawIssuer)
		b.AddASN1BigInt(c.SerialNumber)
	})
}

// attribute is the DER of Attribute{type, SET{value}}, value already DER.
func attribute(oid asn1.ObjectIdentifier, value []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(value) })
	})
	return b.BytesOrPanic() // only fixed, well-formed parts
}

func der(f func(b *cryptobyte.Builder)) []byte {
	var b cryptobyte.Builder
	f(&b)
	return b.BytesOrPanic()
}

// signedAttrs is the DER SET OF the signed attributes, in DER order: what
// the token's signature covers.
func signedAttrs(digest []byte, signer document.Signer, signingTime bool) ([]byte, error) {
	certHash := sha256.Sum256(signer.Cert.Raw)
	attrs := [][]byte{
		attribute(oidAttrContentType, der(func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) })),
		attribute(oidAttrMessageDigest, der(func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest) })),
		// SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2 }
		// ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT sha256 (so
		// absent), certHash, issuerSerial { GeneralNames{directoryName}, serial } }
		attribute(oidAttrSigningCertV2, der(func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1OctetString(certHash[:])
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
								b.AddASN1(cbasn1.Tag(4).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
									b.AddBytes(signer.Cert.RawIssuer)
								})
							})
							b.AddASN1BigInt(signer.Cert.SerialNumber)
						})
					})
				})
			})
		})),
	}
	if signingTime {
		t, err := encodeTime(signer.Time)
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, attribute(oidAttrSigningTime, t))
	}
	slices.SortFunc(attrs, bytes.Compare)
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		for _, a := range attrs {
			b.AddBytes(a)
		}
	})
	return b.Bytes()
}

// encodeTime is a Time as RFC 5652 §11.3 wants: UTCTime for 1950–2049,
// GeneralizedTime otherwise, in UTC, whole seconds.
func encodeTime(t time.Time) ([]byte, error) {
	if t.IsZero() {
		return nil, errors.New("cms: signing-time asked without a signing time")
	}
	t = t.UTC().Truncate(time.Second)
	if t.Year() >= 1950 && t.Year() < 2050 {
		return asn1.MarshalWithParams(t, "utc")
	}
	return asn1.MarshalWithParams(t, "generalized")
}
