package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Signed is what Verify found in a SignedData whose signature is valid.
type Signed struct {
	Signer       *x509.Certificate   // the certificate whose key made the signature
	Certificates []*x509.Certificate // every certificate the SignedData carries
	Hash         crypto.Hash         // the SignerInfo's digest algorithm
	ContentType  asn1.ObjectIdentifier
	Content      []byte    // the encapsulated content; nil when detached
	SigningTime  time.Time // the signing-time attribute; zero when absent
	// SigningCertificateV2 is true when the attribute is present (Verify
	// checked that it names Signer).
	SigningCertificateV2 bool
	Signature            []byte
	// TimestampToken is the signature-time-stamp-token unsigned attribute
	// (a DER ContentInfo), nil when absent. Verify does not check it; a
	// caller passes it to Verify itself (its content is a TSTInfo).
	TimestampToken []byte
}

// Verify checks a DER ContentInfo holding a SignedData with exactly one
// SignerInfo: the signer's certificate is among the certificates, the
// signed attributes' message-digest is the content's digest and
// content-type matches, signing-certificate-v2 (when present) names the
// signer, and the signature verifies with the signer's key. For a detached
// signature, digest is the content's digest made with the SignerInfo's
// hash; nil hashes the encapsulated content. It does not build or check a
// certificate chain: that is the caller's trust decision.
func Verify(der, digest []byte) (*Signed, error) {
	s, err := verify(der, digest)
	if err != nil {
		return nil, fmt.Errorf("cms: %w", err)
	}
	return s, nil
}

var errMalformed = errors.New("malformed SignedData")

func verify(der, digest []byte) (*Signed, error) {
	in := cryptobyte.String(der)
	var ci, sd cryptobyte.String
	var ctype asn1.ObjectIdentifier
	if !in.ReadASN1(&ci, cbasn1.SEQUENCE) || !in.Empty() ||
		!ci.ReadASN1ObjectIdentifier(&ctype) || !ctype.Equal(oidSignedData) ||
		!ci.ReadASN1(&ci, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!ci.ReadASN1(&sd, cbasn1.SEQUENCE) {
		return nil, errors.New("not a DER ContentInfo with a SignedData")
	}
	var version int64
	var digestAlgs, encap, signerInfos cryptobyte.String
	if !sd.ReadASN1Integer(&version) || !sd.ReadASN1(&digestAlgs, cbasn1.SET) ||
		!sd.ReadASN1(&encap, cbasn1.SEQUENCE) {
		return nil, errMalformed
	}
	if version < 1 || version > 5 {
		return nil, fmt.Errorf("SignedData version %d", version)
	}
	s := &Signed{}
	if !encap.ReadASN1ObjectIdentifier(&s.ContentType) {
		return nil, errMalformed
	}
	if encap.PeekASN1Tag(cbasn1.Tag(0).Constructed().ContextSpecific()) {
		var ec cryptobyte.String
		var content []byte
		if !encap.ReadASN1(&ec, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
			!ec.ReadASN1Bytes(&content, cbasn1.OCTET_STRING) {
			return nil, errMalformed
		}
		s.Content = content
	}
	var certs cryptobyte.String
	var hasCerts bool
	if !sd.ReadOptionalASN1(&certs, &hasCerts, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!sd.SkipOptionalASN1(cbasn1.Tag(1).Constructed().ContextSpecific()) ||
		!sd.ReadASN1(&signerInfos, cbasn1.SET) {
		return nil, errMalformed
	}
	for !certs.Empty() {
		var c cryptobyte.String
		var tag cbasn1.Tag
		if !certs.ReadAnyASN1Element(&c, &tag) {
			return nil, errMalformed
		}
		if tag != cbasn1.SEQUENCE {
			continue // other CertificateChoices (attribute certificates): not ours
		}
		cert, err := x509.ParseCertificate(c)
		if err != nil {
			return nil, fmt.Errorf("a certificate: %w", err)
		}
		s.Certificates = append(s.Certificates, cert)
	}
	var si cryptobyte.String
	if !signerInfos.ReadASN1(&si, cbasn1.SEQUENCE) {
		return nil, errors.New("no SignerInfo")
	}
	if !signerInfos.Empty() {
		return nil, errors.New("more than one SignerInfo")
	}
	if err := s.verifySignerInfo(si, digest); err != nil {
		return nil, err
	}
	// The SignerInfo's digest algorithm must be among those the SignedData
	// announces.
	want, _ := hashOID(s.Hash)
	for !digestAlgs.Empty() {
		var alg cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !digestAlgs.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
			return nil, errMalformed
		}
		if oid.Equal(want) {
			return s, nil
		}
	}
	return nil, errors.New("the signer's digest algorithm is not in digestAlgorithms")
}

func (s *Signed) verifySignerInfo(si cryptobyte.String, digest []byte) error {
	var version int64
	var digestAlg, sigAlgID cryptobyte.String
	if !si.ReadASN1Integer(&version) {
		return errMalformed
	}
	switch {
	case si.PeekASN1Tag(cbasn1.SEQUENCE) && version == 1:
		var ias cryptobyte.String
		var issuer cryptobyte.String
		serial := new(big.Int)
		if !si.ReadASN1(&ias, cbasn1.SEQUENCE) || !ias.ReadASN1Element(&issuer, cbasn1.SEQUENCE) ||
			!ias.ReadASN1Integer(serial) {
			return errMalformed
		}
		for _, c := range s.Certificates {
			if bytes.Equal(c.RawIssuer, issuer) && c.SerialNumber.Cmp(serial) == 0 {
				s.Signer = c
				break
			}
		}
	case si.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific()) && version == 3:
		var ski []byte
		if !si.ReadASN1Bytes(&ski, cbasn1.Tag(0).ContextSpecific()) {
			return errMalformed
		}
		for _, c := range s.Certificates {
			if bytes.Equal(c.SubjectKeyId, ski) {
				s.Signer = c
				break
			}
		}
	default:
		return errMalformed
	}
	if s.Signer == nil {
		return errors.New("the signer's certificate is not in the SignedData")
	}
	var hOID asn1.ObjectIdentifier
	if !si.ReadASN1(&digestAlg, cbasn1.SEQUENCE) || !digestAlg.ReadASN1ObjectIdentifier(&hOID) {
		return errMalformed
	}
	switch {
	case hOID.Equal(oidSHA256):
		s.Hash = crypto.SHA256
	case hOID.Equal(oidSHA384):
		s.Hash = crypto.SHA384
	case hOID.Equal(oidSHA512):
		s.Hash = crypto.SHA512
	default:
		return fmt.Errorf("digest algorithm %v not supported", hOID)
	}
	if digest == nil {
		if s.Content == nil {
			return errors.New("detached SignedData and no digest given")
		}
		h := s.Hash.New()
		h.Write(s.Content)
		digest = h.Sum(nil)
	}
	var attrs cryptobyte.String
	hasAttrs := si.PeekASN1Tag(cbasn1.Tag(0).Constructed().ContextSpecific())
	if hasAttrs && !si.ReadASN1Element(&attrs, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return errMalformed
	}
	var sigAlgOID asn1.ObjectIdentifier
	if !si.ReadASN1(&sigAlgID, cbasn1.SEQUENCE) || !sigAlgID.ReadASN1ObjectIdentifier(&sigAlgOID) ||
		!si.ReadASN1Bytes(&s.Signature, cbasn1.OCTET_STRING) {
		return errMalformed
	}
	if !sigAlgID.Empty() && !bytes.Equal(sigAlgID, []byte{5, 0}) {
		return errors.New("signature algorithm parameters other than NULL")
	}
	var unsigned cryptobyte.String
	var hasUnsigned bool
	if !si.ReadOptionalASN1(&unsigned, &hasUnsigned, cbasn1.Tag(1).Constructed().ContextSpecific()) || !si.Empty() {
		return errMalformed
	}
	for !unsigned.Empty() {
		oid, vals, err := readAttribute(&unsigned)
		if err != nil {
			return err
		}
		if oid.Equal(oidAttrTimestampToken) {
			var tok cryptobyte.String
			if !vals.ReadASN1Element(&tok, cbasn1.SEQUENCE) {
				return errMalformed
			}
			s.TimestampToken = tok
		}
	}
	signed := digest
	if hasAttrs {
		// The signature covers the attributes as a DER SET (tag 0x31), not
		// as the [0] IMPLICIT they are stored under.
		set := bytes.Clone([]byte(attrs))
		set[0] = 0x31
		if err := s.checkAttrs(set, digest); err != nil {
			return err
		}
		h := s.Hash.New()
		h.Write(set)
		signed = h.Sum(nil)
	} else if !s.ContentType.Equal(oidData) {
		return errors.New("no signed attributes over content that is not id-data")
	}
	return verifyWith(s.Signer.PublicKey, sigAlgOID, s.Hash, signed, s.Signature)
}

func readAttribute(in *cryptobyte.String) (asn1.ObjectIdentifier, cryptobyte.String, error) {
	var a, vals cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !in.ReadASN1(&a, cbasn1.SEQUENCE) || !a.ReadASN1ObjectIdentifier(&oid) ||
		!a.ReadASN1(&vals, cbasn1.SET) {
		return nil, nil, errMalformed
	}
	return oid, vals, nil
}

func (s *Signed) checkAttrs(set, digest []byte) error {
	in := cryptobyte.String(set)
	var attrs cryptobyte.String
	if !in.ReadASN1(&attrs, cbasn1.SET) {
		return errMalformed
	}
	var sawType, sawDigest bool
	for !attrs.Empty() {
		oid, vals, err := readAttribute(&attrs)
		if err != nil {
			return err
		}
		switch {
		case oid.Equal(oidAttrContentType):
			var ct asn1.ObjectIdentifier
			if !vals.ReadASN1ObjectIdentifier(&ct) || !ct.Equal(s.ContentType) {
				return errors.New("the content-type attribute does not match the content")
			}
			sawType = true
		case oid.Equal(oidAttrMessageDigest):
			var md []byte
			if !vals.ReadASN1Bytes(&md, cbasn1.OCTET_STRING) {
				return errMalformed
			}
			if !bytes.Equal(md, digest) {
				return errors.New("the message-digest attribute does not match the content")
			}
			sawDigest = true
		case oid.Equal(oidAttrSigningTime):
			var err error
			switch {
			case vals.PeekASN1Tag(cbasn1.UTCTime):
				err = boolErr(vals.ReadASN1UTCTime(&s.SigningTime))
			default:
				err = boolErr(vals.ReadASN1GeneralizedTime(&s.SigningTime))
			}
			if err != nil {
				return err
			}
		case oid.Equal(oidAttrSigningCertV2):
			if err := s.checkSigningCertV2(vals); err != nil {
				return err
			}
			s.SigningCertificateV2 = true
		}
	}
	if !sawType || !sawDigest {
		return errors.New("content-type or message-digest attribute missing")
	}
	return nil
}

func boolErr(ok bool) error {
	if !ok {
		return errMalformed
	}
	return nil
}

// checkSigningCertV2 checks that the first ESSCertIDv2 hashes to the
// signer's certificate.
func (s *Signed) checkSigningCertV2(vals cryptobyte.String) error {
	var scv2, certIDs, id cryptobyte.String
	if !vals.ReadASN1(&scv2, cbasn1.SEQUENCE) || !scv2.ReadASN1(&certIDs, cbasn1.SEQUENCE) ||
		!certIDs.ReadASN1(&id, cbasn1.SEQUENCE) {
		return errMalformed
	}
	h := crypto.SHA256
	if id.PeekASN1Tag(cbasn1.SEQUENCE) {
		var alg cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !id.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
			return errMalformed
		}
		switch {
		case oid.Equal(oidSHA256):
		case oid.Equal(oidSHA384):
			h = crypto.SHA384
		case oid.Equal(oidSHA512):
			h = crypto.SHA512
		default:
			return fmt.Errorf("signing-certificate-v2 hash %v not supported", oid)
		}
	}
	var certHash []byte
	if !id.ReadASN1Bytes(&certHash, cbasn1.OCTET_STRING) {
		return errMalformed
	}
	hh := h.New()
	hh.Write(s.Signer.Raw)
	if !bytes.Equal(hh.Sum(nil), certHash) {
		return errors.New("signing-certificate-v2 does not name the signer's certificate")
	}
	return nil
}

// verifyWith checks a SignerInfo signature: RSA PKCS#1 v1.5 (rsaEncryption
// or sha*WithRSAEncryption) or ECDSA.
func verifyWith(pub crypto.PublicKey, alg asn1.ObjectIdentifier, h crypto.Hash, digest, sig []byte) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if !alg.Equal(oidRSAEncryption) && !alg.Equal(oidSHA256WithRSA) && !alg.Equal(oidSHA384WithRSA) && !alg.Equal(oidSHA512WithRSA) {
			return fmt.Errorf("signature algorithm %v not supported for RSA", alg)
		}
		if err := rsa.VerifyPKCS1v15(k, h, digest, sig); err != nil {
			return errors.New("the signature does not verify")
		}
		return nil
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, digest, sig) {
			return errors.New("the signature does not verify")
		}
		return nil
	}
	return fmt.Errorf("the signer's key %T is not supported", pub)
}
