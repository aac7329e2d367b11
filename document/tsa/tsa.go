// Package tsa is an RFC 3161 timestamp client: it implements
// document.Timestamper for the system policy's timestampUrl (PAdES B-T,
// CAdES-T).
//
// A request carries the message imprint, a random 64-bit nonce and
// certReq (so the token carries the TSA's certificate). The answer must be
// status granted (or grantedWithMods), hold a SignedData whose signature
// verifies with the included TSA certificate (extended key usage
// timeStamping, critical), whose TSTInfo has the same imprint and nonce.
// Whether the TSA is trusted is for the verifier of the signed document to
// decide (as for the signer's own certificate): Kyso only refuses what is
// not a timestamp over this signature. Every failure is a *document.Error
// with code TIMESTAMP_FAILED and a reason; the URL's user info (a TSA
// account, sent as HTTP Basic authentication) never appears in a reason.
package tsa

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"kyso.vn/kyso/document"
	"kyso.vn/kyso/document/cms"
)

// MaxResponse bounds a TSA's answer; tokens are a few KiB.
const MaxResponse = 256 << 10

// DefaultTimeout bounds one request when the context has no earlier
// deadline.
const DefaultTimeout = 20 * time.Second

// Client asks one timestamp authority.
type Client struct {
	URL     string       // http or https; user info becomes Basic authentication
	HTTP    *http.Client // nil: a client with Timeout
	Timeout time.Duration
	// Policy, when set, is the TSA policy asked for (reqPolicy).
	Policy asn1.ObjectIdentifier
}

// New is a Client for url with the default timeout.
func New(url string) *Client { return &Client{URL: url, Timeout: DefaultTimeout} }

var (
	oidTSTInfo = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
	hashOIDs   = map[crypto.Hash]asn1.ObjectIdentifier{
		crypto.SHA256: {2, 16, 840, 1, 101, 3, 4, 2, 1},
		crypto.SHA384: {2, 16, 840, 1, 101, 3, 4, 2, 2},
		crypto.SHA512: {2, 16, 840, 1, 101, 3, 4, 2, 3},
	}
)

type messageImprint struct {
	HashAlgorithm pkix.AlgorithmIdentifier
	HashedMessage []byte
}

type timeStampReq struct {
	Version        int
	MessageImprint messageImprint
	ReqPolicy      asn1.ObjectIdentifier `asn1:"optional"`
	Nonce          *big.Int              `asn1:"optional"`
	CertReq        bool                  `asn1:"optional,default:false"`
}

type pkiStatusInfo struct {
	Status       int
	StatusString []asn1.RawValue `asn1:"optional"`
	FailInfo     asn1.BitString  `asn1:"optional"`
}

type timeStampResp struct {
	Status         pkiStatusInfo
	TimeStampToken asn1.RawValue `asn1:"optional"`
}

type tstInfo struct {
	Version        int
	Policy         asn1.ObjectIdentifier
	MessageImprint messageImprint
	SerialNumber   *big.Int
	GenTime        time.Time     `asn1:"generalized"`
	Accuracy       asn1.RawValue `asn1:"optional"`
	Ordering       bool          `asn1:"optional,default:false"`
	Nonce          *big.Int      `asn1:"optional"`
	TSA            asn1.RawValue `asn1:"optional,tag:0"`
	Extensions     asn1.RawValue `asn1:"optional,tag:1"`
}

func failed(reason string, err error) error {
	return &document.Error{Code: document.CodeTimestampFailed, Reason: reason, Err: err}
}

// Timestamp asks the TSA for a token over digest (made with h) and
// returns it (a DER ContentInfo) once it checks.
func (c *Client) Timestamp(ctx context.Context, digest []byte, h crypto.Hash) ([]byte, error) {
	oid, ok := hashOIDs[h]
	if !ok || len(digest) != h.Size() {
		return nil, failed(fmt.Sprintf("cannot timestamp a %d-byte %v digest", len(digest), h), nil)
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, failed("the timestamp URL is not an http(s) URL", nil)
	}
	host := u.Host // for reasons: never the user info
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 63))
	if err != nil {
		return nil, failed("no random nonce", err)
	}
	nonce.Add(nonce, big.NewInt(1)) // never 0: some TSAs drop a zero nonce
	req, err := asn1.Marshal(timeStampReq{
		Version:        1,
		MessageImprint: messageImprint{HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oid}, HashedMessage: digest},
		ReqPolicy:      c.Policy,
		Nonce:          nonce,
		CertReq:        true,
	})
	if err != nil {
		return nil, failed("cannot encode the request", err)
	}
	body, err := c.post(ctx, u, req)
	if err != nil {
		return nil, failed("the timestamp authority "+host+" did not answer", err)
	}
	tok, err := check(body, oid, digest, nonce)
	if err != nil {
		return nil, failed("the timestamp authority "+host+" answered with no valid token", err)
	}
	return tok, nil
}

func (c *Client) post(ctx context.Context, u *url.URL, req []byte) ([]byte, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(req))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/timestamp-query")
	hr.Header.Set("Accept", "application/timestamp-reply")
	if u.User != nil {
		pw, _ := u.User.Password()
		hr.SetBasicAuth(u.User.Username(), pw)
	}
	client := c.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(hr)
	if err != nil {
		// url.Error repeats the URL with its user info: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP status %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponse+1))
	if err != nil {
		return nil, err
	}
	if len(body) > MaxResponse {
		return nil, fmt.Errorf("answer larger than %d bytes", MaxResponse)
	}
	return body, nil
}

// check parses a TimeStampResp and returns its token once it checks.
func check(body []byte, hashOID asn1.ObjectIdentifier, digest []byte, nonce *big.Int) ([]byte, error) {
	var resp timeStampResp
	rest, err := asn1.Unmarshal(body, &resp)
	if err != nil {
		return nil, errors.New("not a TimeStampResp")
	}
	if len(rest) != 0 {
		return nil, errors.New("trailing data after the TimeStampResp")
	}
	if s := resp.Status.Status; s != 0 && s != 1 {
		return nil, fmt.Errorf("status %d (%s)%s", s, statusName(s), statusText(resp.Status))
	}
	tok := resp.TimeStampToken.FullBytes
	if len(tok) == 0 {
		return nil, errors.New("granted but no token")
	}
	signed, err := cms.Verify(tok, nil)
	if err != nil {
		return nil, fmt.Errorf("the token: %w", err)
	}
	if !signed.ContentType.Equal(oidTSTInfo) {
		return nil, errors.New("the token's content is not a TSTInfo")
	}
	if !timestampKeyUsage(signed.Signer) {
		return nil, errors.New("the token's certificate is not for timestamping (critical extended key usage timeStamping)")
	}
	var info tstInfo
	if rest, err := asn1.Unmarshal(signed.Content, &info); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("the TSTInfo does not parse: %v", err)
	}
	if !info.MessageImprint.HashAlgorithm.Algorithm.Equal(hashOID) || !bytes.Equal(info.MessageImprint.HashedMessage, digest) {
		return nil, errors.New("the token is over another message imprint")
	}
	if info.Nonce == nil || info.Nonce.Cmp(nonce) != 0 {
		return nil, errors.New("the token's nonce is not the request's")
	}
	return bytes.Clone(tok), nil
}

func statusName(s int) string {
	switch s {
	case 2:
		return "rejection"
	case 3:
		return "waiting"
	case 4:
		return "revocationWarning"
	case 5:
		return "revocationNotification"
	}
	return "unknown"
}

// statusText is the TSA's own words, if any (PKIFreeText is UTF8Strings).
func statusText(si pkiStatusInfo) string {
	var s string
	for _, v := range si.StatusString {
		var t string
		if _, err := asn1.UnmarshalWithParams(v.FullBytes, &t, "utf8"); err == nil {
			s += ": " + t
		}
	}
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "")
	}
	return s
}

// timestampKeyUsage reports whether c may sign timestamps (RFC 3161 §2.3:
// extended key usage timeStamping only, marked critical).
func timestampKeyUsage(c *x509.Certificate) bool {
	for _, e := range c.Extensions {
		if e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 37}) {
			return e.Critical && len(c.ExtKeyUsage) == 1 && c.ExtKeyUsage[0] == x509.ExtKeyUsageTimeStamping
		}
	}
	return false
}
