package engine

import (
	"errors"
	"fmt"
	"path/filepath"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"kyso.vn/kyso/internal/extid"
)

// The values of the policy files that need more than a JSON type check
// themselves as they are read: the reader (readJSONFile) then reports a bad
// one in the file and at the line where it is written.

// allowPattern is an entry of allowedOrigins.
type allowPattern struct{ pattern }

// blockPattern is an entry of blockedOrigins (a blocked host also covers its
// subdomains).
type blockPattern struct{ pattern }

func (p *allowPattern) UnmarshalJSONFrom(dec *jsontext.Decoder) (err error) {
	p.pattern, err = readPattern(dec, false)
	return err
}

func (p *blockPattern) UnmarshalJSONFrom(dec *jsontext.Decoder) (err error) {
	p.pattern, err = readPattern(dec, true)
	return err
}

func readPattern(dec *jsontext.Decoder, blocking bool) (pattern, error) {
	var s string
	if err := jsonv2.UnmarshalDecode(dec, &s); err != nil {
		return pattern{}, err
	}
	p, err := parsePattern(s, blocking)
	if err != nil {
		return pattern{}, &invalidValue{err}
	}
	return p, nil
}

// modulePath is an entry of modules: an absolute path, so that what is
// loaded does not depend on the directory Kyso runs in.
type modulePath string

func (m *modulePath) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	var s string
	if err := jsonv2.UnmarshalDecode(dec, &s); err != nil {
		return err
	}
	if !filepath.IsAbs(s) {
		return &invalidValue{fmt.Errorf("module %q: must be an absolute path", s)}
	}
	*m = modulePath(s)
	return nil
}

// port is the WebSocket port.
type port int

func (p *port) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	n, err := readInt(dec, "port", 1, 65535)
	*p = port(n)
	return err
}

// extensionID is an entry of extensionIds: a Chromium extension id (32
// letters a–p, as chrome://extensions shows it).
type extensionID string

func (id *extensionID) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	var s string
	if err := jsonv2.UnmarshalDecode(dec, &s); err != nil {
		return err
	}
	if !extid.Valid(s) {
		return &invalidValue{fmt.Errorf("extensionIds: %q is not a Chromium extension id (32 letters a–p, as chrome://extensions shows it)", s)}
	}
	*id = extensionID(s)
	return nil
}

// pinSeconds is pinCacheSeconds.
type pinSeconds int

// maxPinCacheSeconds bounds pinCacheSeconds: an hour (DESIGN).
const maxPinCacheSeconds = 3600

func (s *pinSeconds) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	n, err := readInt(dec, "pinCacheSeconds", 0, maxPinCacheSeconds)
	*s = pinSeconds(n)
	return err
}

func readInt(dec *jsontext.Decoder, name string, lo, hi int) (int, error) {
	var n int
	if err := jsonv2.UnmarshalDecode(dec, &n); err != nil {
		return 0, err
	}
	if n < lo || n > hi {
		return 0, &invalidValue{fmt.Errorf("%s %d: must be %d–%d", name, n, lo, hi)}
	}
	return n, nil
}

// UnmarshalJSONFrom reads an approval and checks that it names one exact
// origin. The error is reported at the line where the entry begins (its
// origin may be missing).
func (a *approval) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	start := dec.InputOffset()
	type plain approval // without this method
	if err := jsonv2.UnmarshalDecode(dec, (*plain)(a)); err != nil {
		return err
	}
	p, err := parsePattern(a.Origin, false)
	if err == nil && p.wildcard {
		err = errors.New("an approval is an exact origin")
	}
	if err != nil {
		return &jsonv2.SemanticError{ByteOffset: start, Err: &invalidValue{err}}
	}
	a.pattern = p
	return nil
}
