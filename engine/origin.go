package engine

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// origin is a parsed, canonical web origin: scheme://host[:port] with the
// host in lowercase ASCII (punycode, as browsers send it) and the default
// port dropped, so "https://a.gov.vn:443" and "https://a.gov.vn" are equal.
type origin struct {
	scheme string // "https" or "http"
	host   string // lowercase ASCII; IPv6 literals in brackets
	port   string // "" for the scheme's default port
}

func (o origin) String() string {
	if o.port == "" {
		return o.scheme + "://" + o.host
	}
	return o.scheme + "://" + o.host + ":" + o.port
}

// loopback reports whether host is one of the names allowLocalhost admits.
// [::1] is admitted beside localhost and 127.0.0.1: it is the same machine,
// and browsers treat it as a secure context too.
func loopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "[::1]"
}

// parseOrigin parses an origin as a front-end reports it. It accepts only
// http and https with a bare host and optional port: no userinfo, path
// (not even "/"), query or fragment, no non-ASCII host. Hosts are lowercased.
// Whether http is acceptable is decided by the policy, not here.
func parseOrigin(s string) (origin, error) {
	if s == "" {
		return origin{}, errors.New("missing origin")
	}
	if s == "null" {
		return origin{}, errors.New("opaque origin \"null\"")
	}
	u, err := url.Parse(s)
	if err != nil {
		return origin{}, fmt.Errorf("origin %q: %w", s, err)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return origin{}, fmt.Errorf("origin %q: scheme %q may not ask", s, u.Scheme)
	}
	if u.Opaque != "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" ||
		u.ForceQuery || strings.Contains(s, "#") {
		return origin{}, fmt.Errorf("origin %q: must be scheme://host[:port] only", s)
	}
	o := origin{scheme: scheme}
	host := u.Hostname()
	if host == "" {
		return origin{}, fmt.Errorf("origin %q: no host", s)
	}
	if strings.Contains(u.Host, "[") {
		ip := net.ParseIP(host)
		if ip == nil || ip.To4() != nil || strings.Contains(host, "%") {
			return origin{}, fmt.Errorf("origin %q: bad IPv6 literal", s)
		}
		o.host = "[" + ip.String() + "]"
	} else {
		h, err := checkHostname(host)
		if err != nil {
			return origin{}, fmt.Errorf("origin %q: %w", s, err)
		}
		o.host = h
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != p {
			return origin{}, fmt.Errorf("origin %q: bad port", s)
		}
		if !(scheme == "https" && n == 443) && !(scheme == "http" && n == 80) {
			o.port = p
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return origin{}, fmt.Errorf("origin %q: empty port", s)
	}
	return o, nil
}

// checkHostname accepts a DNS name or IPv4 address in ASCII (browsers send
// IDNs in punycode) and returns it lowercased.
func checkHostname(h string) (string, error) {
	if len(h) > 253 {
		return "", errors.New("host name too long")
	}
	h = strings.ToLower(h)
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return "", fmt.Errorf("bad host name %q", h)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", fmt.Errorf("bad host name %q (only ASCII letters, digits, '-'; IDNs in punycode)", h)
			}
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return "", fmt.Errorf("bad host name %q", h)
		}
	}
	return h, nil
}

// pattern is one entry of allowedOrigins/blockedOrigins: an exact origin or
// scheme://*.domain[:port], where "*." stands for one or more labels.
type pattern struct {
	raw      string
	o        origin // for a wildcard, o.host is the domain after "*."
	wildcard bool
	// blocking: an entry of blockedOrigins. It names hosts, not origins:
	// it matches on every port and either scheme, and an exact host also
	// covers its subdomains (DESIGN: "blocks the host on every port").
	// Otherwise a blocked site would get back in at https://evil.example:8443
	// or through a listed wildcard, with userApproval, as a new origin.
	blocking bool
}

// parsePattern parses a policy entry. Patterns must be written in lowercase
// ASCII (punycode for IDNs) so that what the admin reads is what matches.
// http patterns are accepted only for loopback hosts, the only http origins
// that can ever ask.
func parsePattern(s string, blocking bool) (pattern, error) {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || s[i] >= 'A' && s[i] <= 'Z' {
			return pattern{}, fmt.Errorf("origin pattern %q: write it in lowercase ASCII (punycode for IDNs)", s)
		}
	}
	p := pattern{raw: s, blocking: blocking}
	probe := s
	if scheme, rest, ok := strings.Cut(s, "://*."); ok {
		p.wildcard = true
		probe = scheme + "://" + rest
	}
	if strings.Contains(probe, "*") {
		return pattern{}, fmt.Errorf("origin pattern %q: '*' is allowed only as a leading \"*.\" label", s)
	}
	o, err := parseOrigin(probe)
	if err != nil {
		return pattern{}, fmt.Errorf("origin pattern %q: %w", s, unwrapOriginErr(err))
	}
	if p.wildcard {
		if strings.HasPrefix(o.host, "[") || net.ParseIP(o.host) != nil {
			return pattern{}, fmt.Errorf("origin pattern %q: a wildcard needs a domain name, not an address", s)
		}
		if !strings.Contains(o.host, ".") && o.host != "localhost" {
			// "*.vn" would admit every site of a country: refuse it.
			return pattern{}, fmt.Errorf("origin pattern %q: a wildcard needs at least two labels after \"*.\"", s)
		}
	}
	if o.scheme == "http" && !(loopback(o.host) || p.wildcard && o.host == "localhost") {
		return pattern{}, fmt.Errorf("origin pattern %q: http is possible only for localhost, 127.0.0.1 and [::1]", s)
	}
	p.o = o
	return p, nil
}

// unwrapOriginErr drops parseOrigin's "origin %q:" prefix to avoid saying
// the pattern twice.
func unwrapOriginErr(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "origin ") {
		return errors.New(msg[i+2:])
	}
	return err
}

// match reports whether origin o matches the pattern: same scheme, same
// (canonical) port, and the host equal or, for "*.d", ending in ".d" with at
// least one label before it. Because hosts hold only [a-z0-9-.], a suffix
// test on ".d" cannot be fooled by "evild" or "d.evil.com".
// A blocking pattern leaves out the scheme and port test (see pattern).
func (p pattern) match(o origin) bool {
	if !p.blocking && (o.scheme != p.o.scheme || o.port != p.o.port) {
		return false
	}
	if p.wildcard || p.blocking {
		if strings.HasSuffix(o.host, "."+p.o.host) && len(o.host) > len(p.o.host)+1 {
			return true
		}
		if p.wildcard {
			return false
		}
	}
	return o.host == p.o.host
}
