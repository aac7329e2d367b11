package engine

// Fuzz targets of issue 8 (docs/fuzzing.md). Their seeds (the f.Add calls
// and testdata/fuzz/FuzzXxx) run in plain `go test`; `make fuzz` fuzzes.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	_ "crypto/sha3" // the fake token signs SHA-3 hashes with RSASSA-PSS
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/prompt"
	"kyso.vn/kyso/prompt/prompttest"
	"kyso.vn/kyso/protocol"
	"kyso.vn/kyso/token"
)

// Fixed certificate ids, so that corpus files can name a certificate the
// fake token holds (the fake's real ids change with its random keys).
const (
	fuzzRSAID  = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	fuzzECID   = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
	fuzzPIN    = "fz-PIN-50931"
	fuzzOrigin = "https://dichvucong.gov.vn"
)

var (
	fuzzCertsOnce sync.Once
	fuzzCerts     []fakeCert
)

func fuzzProvider(t testing.TB) *fakeProvider {
	fuzzCertsOnce.Do(func() {
		fuzzCerts = newFakeProvider(t).certs
		fuzzCerts[0].ID, fuzzCerts[1].ID = fuzzRSAID, fuzzECID
	})
	return &fakeProvider{pin: fuzzPIN, certs: fuzzCerts}
}

// designCodes are the error codes of DESIGN.md.
var designCodes = map[protocol.Code]bool{
	"BAD_REQUEST": true, "UNKNOWN_OP": true, "ORIGIN_DENIED": true, "USER_CANCELLED": true,
	"TIMEOUT": true, "BUSY": true, "RATE_LIMITED": true, "NO_TOKEN": true, "NO_CERTIFICATE": true,
	"CERTIFICATE_NOT_FOUND": true, "UNSUPPORTED_ALGORITHM": true, "PIN_LOCKED": true,
	"TOKEN_REMOVED": true, "TOKEN_ERROR": true, "BAD_DOCUMENT": true, "TIMESTAMP_FAILED": true,
	"NO_DIALOG": true, "INTERNAL": true,
}

// fuzzHandleCodes are the outcomes possible in FuzzHandle's set-up: an
// approvable origin the person allows once, a certificate picker the person
// cancels, the right PIN, two keys present. Anything else (INTERNAL: a
// panic or a bug) is a failure.
var fuzzHandleCodes = map[protocol.Code]bool{
	"OK": true, "BAD_REQUEST": true, "UNKNOWN_OP": true, "USER_CANCELLED": true,
	"CERTIFICATE_NOT_FOUND": true, "UNSUPPORTED_ALGORITHM": true, "NO_CERTIFICATE": true,
	"BAD_DOCUMENT": true, // a document operation's PDF or XML
}

func b64(n int) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xa5}, n)) }

// fuzzHandleSeeds are requests worth starting from, beside TestValidation's.
func fuzzHandleSeeds() []string {
	sign := func(id, hf string, n int, extra string) string {
		return `{"id":"s1","op":"sign","params":{"certificateId":"` + id + `","hash":"` + b64(n) +
			`","hashFunction":"` + hf + `"` + extra + `}}`
	}
	return []string{
		`{"id":"v","op":"version"}`,
		`{"id":"v","op":"version","params":{}}`,
		`{"id":"g","op":"getCertificate","params":{}}`,
		`{"id":"g","op":"getCertificate","params":{"filter":{"issuer":"Kyso"}}}`,
		`{"id":"g","op":"getCertificate","params":{"filter":{"issuer":"nobody"}}}`,
		sign(fuzzRSAID, "SHA-256", 32, ""),
		sign(fuzzRSAID, "SHA-384", 48, `,"scheme":"RSASSA-PSS"`),
		sign(fuzzRSAID, "SHA3-512", 64, `,"scheme":"RSASSA-PKCS1-v1_5","description":"Tờ khai thuế"`),
		sign(fuzzRSAID, "SHA-256", 32, `,"scheme":"ECDSA"`),
		sign(fuzzECID, "SHA-224", 28, ""),
		sign(fuzzECID, "SHA3-256", 32, `,"scheme":"RSASSA-PSS"`),
		sign(fuzzECID, "SHA-256", 31, ""),
		sign(strings.Repeat("ab", 32), "SHA-256", 32, ""),
		`{"id":"b","op":"signBatch","params":{"certificateId":"` + fuzzECID + `","hashes":["` + b64(32) + `","` + b64(32) +
			`"],"hashFunction":"SHA-256"}}`,
		`{"id":"b","op":"signBatch","params":{"certificateId":"` + fuzzRSAID + `","hashes":["` + b64(48) +
			`"],"hashFunction":"SHA3-384","scheme":"RSASSA-PSS","description":"x"}}`,
		// The document operations: a tiny PDF (BAD_DOCUMENT), XML that
		// signs, a CMS, a list.
		`{"id":"p","op":"signPdf","params":{"certificateId":"` + fuzzRSAID + `","pdf":"JVBERi0xLjQK","stamp":{"page":1,"rect":[1,2,30,40],"text":"a\nb"}}}`,
		`{"id":"p","op":"signPdf","params":{"certificateId":"` + fuzzECID + `","documents":[{"pdf":"JVBERi0xLjQK","stamp":null}]}}`,
		`{"id":"x","op":"signXml","params":{"certificateId":"` + fuzzRSAID + `","xml":"<a><b Id=\"i\">ư</b></a>","reference":"#i","parent":"/a","signingTime":true}}`,
		`{"id":"x","op":"signXml","params":{"certificateId":"` + fuzzECID + `","documents":[{"xml":"<a/>"},{"xml":"<!DOCTYPE a><a/>"}]}}`,
		`{"id":"c","op":"signCms","params":{"certificateId":"` + fuzzRSAID + `","hash":"` + b64(32) + `","hashFunction":"SHA-256","fileName":"a.p7s"}}`,
		`{"id":"c","op":"signCms","params":{"certificateId":"` + fuzzECID + `","hashes":["` + b64(64) + `"],"hashFunction":"SHA-512"}}`,
		`{"id":"x","op":"sign","params":{"hashfunction":"SHA-256"}}`,
		`{"ID":"x","OP":"version"}`,
		`{"id":"x","id":"y","op":"version"}`,
		`{"id":"\ud800","op":"version"}`,
		`{"id":"a","op":"version"}` + "\n",
		`{"id":"a","op":"version"}{`,
	}
}

func FuzzHandle(f *testing.F) {
	for _, s := range fuzzHandleSeeds() {
		f.Add([]byte(s))
	}
	// TestValidation's table, with the fixed certificate id.
	for _, s := range validationSeeds() {
		f.Add([]byte(s))
	}
	fuzzProvider(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		prov := fuzzProvider(t)
		pr := prompttest.New().Always("approve", prompttest.Approve(prompt.AllowOnce)).
			Always("pin", prompttest.PIN(fuzzPIN)) // the picker: no answer, cancelled
		var logs bytes.Buffer
		e, err := New(Options{Provider: prov, Prompter: pr, Log: zerolog.New(&logs), Lang: "en",
			Now: func() time.Time { return time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC) }})
		if err != nil {
			t.Fatal(err)
		}
		out := e.Handle(context.Background(), fuzzOrigin, raw, nil)
		checkHandle(t, raw, out, prov, pr, logs.String())
	})
}

// validationSeeds are TestValidation's requests (without the 1 MiB one).
func validationSeeds() []string {
	good := hashB64("doc")
	sign := func(extra string) string {
		return `{"id":"a","op":"sign","params":{"certificateId":"` + fuzzRSAID + `","hash":"` + good + `","hashFunction":"SHA-256"` + extra + `}}`
	}
	h32 := b64(32)
	return []string{`hello`, ``, `[{"id":"a","op":"version"}]`, `null`, `{"id":"a","op":"version"} {}`,
		"{\"id\":\"a\xff\",\"op\":\"version\"}", `{"id":1,"op":"version"}`, `{"id":"","op":"version"}`,
		`{"id":"` + strings.Repeat("x", 65) + `","op":"version"}`, `{"id":"` + strings.Repeat("ý", 64) + `","op":"version"}`,
		`{"id":"a"}`, `{"id":"a","op":7}`, `{"id":"a","op":"deleteEverything"}`, `{"id":"a","op":"version","extra":1}`,
		`{"id":"a","op":"version","params":[]}`, `{"id":"a","op":"version","params":null}`,
		`{"id":"a","op":"version","params":"x"}`, `{"id":"a","op":"version","params":{"x":1}}`,
		sign(`,"pin":"1234"`), strings.Replace(sign(""), good, strings.TrimRight(good, "="), 1),
		strings.Replace(sign(""), good, good[:10]+`\n`+good[10:], 1),
		strings.Replace(sign(""), good, base64.StdEncoding.EncodeToString(make([]byte, 20)), 1),
		strings.Replace(sign(""), "SHA-256", "SHA-384", 1), strings.Replace(sign(""), "SHA-256", "sha-256", 1),
		sign(`,"scheme":"RSA-RAW"`), strings.Replace(sign(""), fuzzRSAID, strings.ToUpper(fuzzRSAID), 1),
		sign(`,"description":"a\u0007b"`), sign(`,"description":"abc\u202Egnp.exe"`),
		sign(`,"description":"` + strings.Repeat("ố", 257) + `"`), sign(`,"hashes":["` + h32 + `"]`),
		strings.Replace(sign(""), `"`+good+`"`, "42", 1),
		`{"id":"a","op":"signBatch","params":{"certificateId":"` + fuzzRSAID + `","hashes":[],"hashFunction":"SHA-256"}}`,
		`{"id":"a","op":"getCertificate","params":{"filter":{"subject":"x"}}}`,
		`{"id":"a","op":"getCertificate","params":{"filter":"x"}}`,
	}
}

// checkHandle holds the invariants of one answer of FuzzHandle.
func checkHandle(t *testing.T, raw, out []byte, prov *fakeProvider, pr *prompttest.Prompter, logs string) {
	t.Helper()
	if len(out) > protocol.MaxMessage || !utf8.Valid(out) || !json.Valid(out) {
		t.Fatalf("answer is not one JSON object of at most 1 MiB: %.300q", out)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(out, &top); err != nil {
		t.Fatalf("answer %.300q: %v", out, err)
	}
	var resp protocol.Response
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("answer %.300q: %v", out, err)
	}
	want := []string{"id", "ok", "error"}
	if resp.OK {
		want[2] = "result"
	}
	if len(top) != 3 || top["id"] == nil || top["ok"] == nil || top[want[2]] == nil {
		t.Fatalf("answer has keys %v, want %v: %.300q", keys(top), want, out)
	}
	code := protocol.Code("OK")
	if !resp.OK {
		code = resp.Error.Code
		if !designCodes[code] || resp.Error.Message == "" || (resp.Error.Detail != "") != (code == protocol.TokenError) {
			t.Fatalf("bad error %+v", resp.Error)
		}
	}
	if !fuzzHandleCodes[code] {
		t.Fatalf("request %.300q: outcome %s (%v)\nlog: %s", raw, code, resp.Error, logs)
	}

	// The id: the request's when it has a valid one, else "".
	if wantID := fuzzRequestID(raw); resp.ID != wantID {
		t.Fatalf("request %.300q: answer id %q, want %q", raw, resp.ID, wantID)
	}

	// Validation against the spec (docs/protocol.md, Strict validation).
	rejected := code == protocol.BadRequest || code == protocol.UnknownOp
	switch v := strictVerdict(raw); {
	case v == verdictValid && rejected:
		t.Fatalf("valid request %.300q refused: %s %v", raw, code, resp.Error)
	case v == verdictInvalid && !rejected:
		t.Fatalf("invalid request %.300q accepted: %s", raw, code)
	case v == verdictUnknownOp && code != protocol.UnknownOp:
		t.Fatalf("request %.300q of an unknown op: %s", raw, code)
	}
	if rejected && len(pr.Calls()) != 0 {
		t.Fatalf("refused request %.300q opened %d dialogs", raw, len(pr.Calls()))
	}
	if !rejected {
		// What passed validation is valid when read the way the engine
		// reads JSON (case-insensitive keys, last duplicate wins).
		if why := lenientInvalid(raw); why != "" {
			t.Fatalf("request %.300q accepted (%s) but %s", raw, code, why)
		}
	}
	if resp.OK {
		checkResult(t, raw, resp.Result, prov)
	}
	if strings.Contains(logs, fuzzPIN) || bytes.Contains(out, []byte(fuzzPIN)) {
		if !bytes.Contains(raw, []byte(fuzzPIN)) {
			t.Fatalf("the PIN leaked: answer %.300q, log %s", out, logs)
		}
	}
}

func keys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// fuzzRequestID is the id DESIGN says the answer carries: the request's id
// when the request starts as a JSON object whose "id" (spelled so; the last
// one wins) is a string of 1–64 characters, else "".
func fuzzRequestID(raw []byte) string {
	if len(raw) > protocol.MaxDocumentMessage || !utf8.Valid(raw) {
		return ""
	}
	if b := bytes.TrimSpace(raw); len(b) == 0 || b[0] != '{' {
		return ""
	}
	var first map[string]json.RawMessage
	if json.NewDecoder(bytes.NewReader(raw)).Decode(&first) != nil {
		return ""
	}
	var id string
	if len(first["id"]) == 0 || first["id"][0] != '"' || json.Unmarshal(first["id"], &id) != nil {
		return ""
	}
	if n := utf8.RuneCountInString(id); n < 1 || n > 64 {
		return ""
	}
	return id
}

type verdict int

const (
	verdictUnsure verdict = iota // the spec leaves it open (duplicate keys, null values)
	verdictValid
	verdictInvalid
	verdictUnknownOp
)

type kv struct {
	k string
	v json.RawMessage
}

// objectKV lists the members of a JSON object in order, keys as written
// (unescaped, case kept, duplicates kept).
func objectKV(raw []byte) ([]kv, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var out []kv
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		out = append(out, kv{tok.(string), v})
	}
	return out, true
}

// members checks an object's keys against the allowed names, exactly as
// the spec spells them: an unknown key is invalid, a duplicate is unsure.
func members(raw json.RawMessage, allowed ...string) (map[string]json.RawMessage, verdict) {
	list, ok := objectKV(raw)
	if !ok {
		return nil, verdictInvalid
	}
	m := map[string]json.RawMessage{}
	for _, e := range list {
		known := false
		for _, a := range allowed {
			known = known || e.k == a
		}
		if !known {
			return nil, verdictInvalid
		}
		if _, dup := m[e.k]; dup {
			return nil, verdictUnsure
		}
		m[e.k] = e.v
	}
	return m, verdictValid
}

// str reads an optional JSON string member: present reports whether it was
// there; v is verdictInvalid for another type, verdictUnsure for null.
func str(m map[string]json.RawMessage, k string) (s string, present bool, v verdict) {
	raw, ok := m[k]
	if !ok {
		return "", false, verdictValid
	}
	switch raw[0] {
	case '"':
		if json.Unmarshal(raw, &s) != nil {
			return "", true, verdictInvalid
		}
		return s, true, verdictValid
	case 'n':
		return "", true, verdictUnsure
	}
	return "", true, verdictInvalid
}

// strictVerdict judges a request by docs/protocol.md with keys compared
// exactly, independently of the engine's decoder.
// repeatsKey reports whether an object anywhere in raw (valid JSON) has a
// key twice, compared unescaped: docs/protocol.md refuses the whole
// message, whatever the op.
func repeatsKey(raw []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(raw))
	type level struct {
		keys  map[string]bool
		isObj bool
		key   bool // the next string token is a key
	}
	var stack []*level
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *level
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if top != nil && top.isObj {
					top.key = true // this value ends a member
				}
				stack = append(stack, &level{keys: map[string]bool{}, isObj: t == '{', key: t == '{'})
			default:
				stack = stack[:len(stack)-1]
			}
			continue
		case string:
			if top != nil && top.isObj && top.key {
				if top.keys[t] {
					return true
				}
				top.keys[t] = true
				top.key = false
				continue
			}
		}
		if top != nil && top.isObj {
			top.key = true // a scalar value ends a member
		}
	}
}

func strictVerdict(raw []byte) verdict {
	if len(raw) > protocol.MaxMessage || !utf8.Valid(raw) || !json.Valid(raw) || repeatsKey(raw) {
		return verdictInvalid
	}
	env, v := members(raw, "id", "op", "params")
	if v != verdictValid {
		return v
	}
	id, present, v := str(env, "id")
	if v == verdictUnsure {
		v = verdictInvalid // a null id is no id
	}
	if !present || v != verdictValid || utf8.RuneCountInString(id) < 1 || utf8.RuneCountInString(id) > 64 {
		return verdictInvalid
	}
	op, present, v := str(env, "op")
	if !present || v != verdictValid || op == "" {
		return verdictInvalid
	}
	params := json.RawMessage(`{}`)
	if p, ok := env["params"]; ok && string(p) != "null" {
		if p[0] != '{' {
			return verdictInvalid
		}
		params = p
	}
	switch op {
	case "version":
		_, v := members(params)
		return v
	case "getCertificate":
		m, v := members(params, "filter")
		if v != verdictValid {
			return v
		}
		f, ok := m["filter"]
		if !ok || string(f) == "null" {
			return verdictValid
		}
		if f[0] != '{' {
			return verdictInvalid
		}
		fm, v := members(f, "issuer")
		if v != verdictValid {
			return v
		}
		issuer, _, v := str(fm, "issuer")
		if v != verdictValid {
			return v
		}
		if !specText(issuer) {
			return verdictInvalid
		}
		return verdictValid
	case "sign", "signBatch":
		m, v := members(params, "certificateId", "hash", "hashes", "hashFunction", "scheme", "description")
		if v != verdictValid {
			return v
		}
		var p specSign
		var present [6]bool
		for i, f := range []struct {
			k string
			p *string
		}{{"certificateId", &p.certID}, {"hash", &p.hash}, {"hashFunction", &p.hashFunc}, {"scheme", &p.scheme}, {"description", &p.description}} {
			s, pr, v := str(m, f.k)
			if v != verdictValid {
				return v
			}
			*f.p, present[i] = s, pr
		}
		p.hasHash = present[1]
		if raw, ok := m["hashes"]; ok {
			p.hasHashes = true
			switch raw[0] {
			case 'n':
				return verdictUnsure
			case '[':
			default:
				return verdictInvalid
			}
			var items []json.RawMessage
			if json.Unmarshal(raw, &items) != nil {
				return verdictInvalid
			}
			for _, it := range items {
				var s string
				switch it[0] {
				case 'n':
					return verdictUnsure
				case '"':
					json.Unmarshal(it, &s)
				default:
					return verdictInvalid
				}
				p.hashes = append(p.hashes, s)
			}
		}
		if specSignValid(p, op == "signBatch") {
			return verdictValid
		}
		return verdictInvalid
	case "signPdf", "signCms", "signXml":
		// Their params have their own table test (TestDocumentParams).
		return verdictUnsure
	}
	return verdictUnknownOp
}

// specSign is a sign request's params as the spec sees them.
type specSign struct {
	certID, hash, hashFunc, scheme, description string
	hashes                                      []string
	hasHash, hasHashes                          bool
}

var specHashSizes = map[string]int{"SHA-224": 28, "SHA-256": 32, "SHA-384": 48, "SHA-512": 64,
	"SHA3-256": 32, "SHA3-384": 48, "SHA3-512": 64}

func specSignValid(p specSign, batch bool) bool {
	if len(p.certID) != 64 || strings.Trim(p.certID, "0123456789abcdef") != "" {
		return false
	}
	size, ok := specHashSizes[p.hashFunc]
	if !ok {
		return false
	}
	switch p.scheme {
	case "", "RSASSA-PKCS1-v1_5", "RSASSA-PSS", "ECDSA":
	default:
		return false
	}
	if !specText(p.description) {
		return false
	}
	list := []string{p.hash}
	if batch {
		if p.hasHash || !p.hasHashes || len(p.hashes) < 1 || len(p.hashes) > 1000 {
			return false
		}
		list = p.hashes
	} else if p.hasHashes || !p.hasHash {
		return false
	}
	for _, h := range list {
		b, err := base64.StdEncoding.DecodeString(h)
		if err != nil || base64.StdEncoding.EncodeToString(b) != h || len(b) != size {
			return false
		}
	}
	return true
}

// specText: at most 256 characters, no control or bidi characters.
func specText(s string) bool {
	if utf8.RuneCountInString(s) > 256 {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == 0x061C || r == 0x200E || r == 0x200F ||
			(r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) {
			return false
		}
	}
	return true
}

// lenientInvalid says why a request the engine let through breaks the spec
// when read as encoding/json reads it, or "" when it does not.
func lenientInvalid(raw []byte) string {
	var env struct {
		ID     string          `json:"id"`
		Op     string          `json:"op"`
		Params json.RawMessage `json:"params"`
	}
	if err := strictUnmarshal(raw, &env); err != nil {
		return "the envelope does not decode: " + err.Error()
	}
	if n := utf8.RuneCountInString(env.ID); n < 1 || n > 64 {
		return "the id is not 1–64 characters"
	}
	params := env.Params
	if len(params) == 0 || string(params) == "null" {
		params = json.RawMessage(`{}`)
	}
	switch env.Op {
	case "version":
		if err := strictUnmarshal(params, &struct{}{}); err != nil {
			return "version params: " + err.Error()
		}
	case "getCertificate":
		var p getCertificateParams
		if err := strictUnmarshal(params, &p); err != nil {
			return "getCertificate params: " + err.Error()
		}
		if p.Filter != nil && !specText(p.Filter.Issuer) {
			return "filter.issuer breaks the text rule"
		}
	case "sign", "signBatch":
		var p signParams
		if err := strictUnmarshal(params, &p); err != nil {
			return "sign params: " + err.Error()
		}
		s := specSign{certID: p.CertificateID, hashFunc: p.HashFunction, scheme: p.Scheme,
			description: p.Description, hasHash: p.Hash != nil, hasHashes: p.Hashes != nil}
		if p.Hash != nil {
			s.hash = *p.Hash
		}
		if p.Hashes != nil {
			s.hashes = *p.Hashes
		}
		if !specSignValid(s, env.Op == "signBatch") {
			return "its params break the spec"
		}
	case "signPdf", "signCms", "signXml":
	default:
		return "its op is unknown"
	}
	return ""
}

func strictUnmarshal(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// checkResult verifies an OK answer: version's fixed result, or signatures
// that verify against the certificate named, one per hash.
func checkResult(t *testing.T, raw []byte, result json.RawMessage, prov *fakeProvider) {
	t.Helper()
	var env struct {
		Op     string
		Params signParams
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("OK for %.300q that does not decode: %v", raw, err)
	}
	switch env.Op {
	case "version":
		if want := fmt.Sprintf(`{"version":%q,"protocol":1,"ops":["version","getCertificate","sign","signBatch","signPdf","signCms","signXml"]}`, Version); string(result) != want {
			t.Fatalf("version result %s", result)
		}
		return
	case "sign", "signBatch":
	case "signPdf", "signCms", "signXml":
		return // their results have their own tests
	default:
		t.Fatalf("OK for op %q (the picker is always cancelled): %.300q", env.Op, raw)
	}
	var res struct {
		Signature    *string
		Signatures   []string
		Scheme       token.Scheme
		HashFunction token.HashFunc
	}
	if err := json.Unmarshal(result, &res); err != nil {
		t.Fatalf("sign result %s: %v", result, err)
	}
	p := env.Params
	hashes := []string{}
	sigs := res.Signatures
	if env.Op == "sign" {
		hashes = append(hashes, *p.Hash)
		if res.Signature == nil || sigs != nil {
			t.Fatalf("sign result %s", result)
		}
		sigs = []string{*res.Signature}
	} else {
		hashes = *p.Hashes
	}
	if len(sigs) != len(hashes) || string(res.HashFunction) != p.HashFunction {
		t.Fatalf("%d hashes, result %.300s", len(hashes), result)
	}
	var cert fakeCert
	for _, c := range prov.certs {
		if c.ID == p.CertificateID {
			cert = c
		}
	}
	if cert.Cert == nil {
		t.Fatalf("signed with certificate %s that the token does not hold", p.CertificateID)
	}
	h := cryptoHash[res.HashFunction]
	for i := range sigs {
		digest, _ := base64.StdEncoding.DecodeString(hashes[i])
		sig, err := base64.StdEncoding.DecodeString(sigs[i])
		if err != nil {
			t.Fatalf("signature %d: %v", i, err)
		}
		switch pub := cert.Cert.PublicKey.(type) {
		case *rsa.PublicKey:
			switch res.Scheme {
			case token.PKCS1v15:
				err = rsa.VerifyPKCS1v15(pub, h, digest, sig)
			case token.PSS:
				err = rsa.VerifyPSS(pub, h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
			default:
				err = fmt.Errorf("scheme %s for an RSA key", res.Scheme)
			}
			if p.Scheme == "" && res.Scheme != token.PKCS1v15 {
				err = fmt.Errorf("default RSA scheme %s", res.Scheme)
			}
		case *ecdsa.PublicKey:
			if res.Scheme != token.ECDSA || !ecdsa.VerifyASN1(pub, digest, sig) {
				err = fmt.Errorf("ECDSA signature does not verify (scheme %s)", res.Scheme)
			}
		}
		if err != nil {
			t.Fatalf("request %.300q: signature %d: %v", raw, i, err)
		}
	}
	if p.Scheme != "" && string(res.Scheme) != p.Scheme {
		t.Fatalf("asked scheme %s, got %s", p.Scheme, res.Scheme)
	}
}

// ---------------------------------------------------------------------------
// Origins

// originSeeds are TestParseOrigin's and TestPatternMatch's origins, and
// lookalikes.
var originSeeds = []string{
	"https://a.gov.vn", "https://a.gov.vn:443", "https://A.Gov.VN", "https://a.gov.vn:8443", "http://localhost:80",
	"http://127.0.0.1:3000", "http://[::1]:3000", "https://xn--tnh-2na.vn", "https://[0:0:0:0:0:0:0:1]",
	"", "null", "file:///etc/passwd", "chrome-extension://abc", "moz-extension://x", "ftp://a.gov.vn",
	"https://a.gov.vn/", "https://a.gov.vn/x", "https://user@a.gov.vn", "https://a.gov.vn?x", "https://a.gov.vn#x",
	"https://a.gov.vn:", "https://a.gov.vn:0", "https://a.gov.vn:65536", "https://a.gov.vn:0443", "https://tỉnh.vn",
	"https://a..vn", "https://-a.vn", "https://a_b.vn", "https://", "https:a.gov.vn", "javascript:alert(1)",
	"data:text/html,x", "https://[fe80::1%25eth0]", " https://a.gov.vn", "https://a.gov.vn\n",
	"https://gov.vn", "https://evilgov.vn", "https://gov.vn.evil.com", "https://x.gov.vn.evil.com",
	"https://x.gov.vnn", "https://dichvucong.gov.vn.", "https://DICHVUCONG.GOV.VN:443", "http://x.gov.vn",
	"https://x.gov.vn:8443", "https://a.b.gov.vn", "https://127.0.0.1", "http://127.1", "http://[::ffff:127.0.0.1]",
	"https://gov.vn%2eevil.com", "https://a.gov.vn%00", "https://a@gov.vn", "HTTPS://X.GOV.VN",
}

func FuzzParseOrigin(f *testing.F) {
	for _, s := range originSeeds {
		f.Add(s)
	}
	strict := &policy{Settings: Settings{UserApproval: true}}
	local := &policy{Settings: Settings{UserApproval: true, AllowLocalhost: true}}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := parseOrigin(s)
		if err != nil {
			return
		}
		checkCanonical(t, s, o)
		// Only https asks, and http only for loopback with allowLocalhost.
		if strict.decide(o) != denied && o.scheme != "https" {
			t.Fatalf("%q: %s may ask without allowLocalhost", s, o)
		}
		if local.decide(o) != denied && o.scheme != "https" && !(o.scheme == "http" && loopback(o.host)) {
			t.Fatalf("%q: %s may ask", s, o)
		}
	})
}

var canonHost = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]*[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)

// checkCanonical: a parsed origin is canonical (lowercase, no default port)
// and re-parses to itself, and it is the input up to case and default port
// (IPv6 literals are also normalised).
func checkCanonical(t *testing.T, s string, o origin) {
	t.Helper()
	c := o.String()
	if o.scheme != "https" && o.scheme != "http" {
		t.Fatalf("%q: scheme %q", s, o.scheme)
	}
	if strings.HasPrefix(o.host, "[") {
		if !strings.HasSuffix(o.host, "]") || strings.ContainsAny(o.host, "%ABCDEF") {
			t.Fatalf("%q: host %q", s, o.host)
		}
	} else if !canonHost.MatchString(o.host) || len(o.host) > 253 {
		t.Fatalf("%q: host %q is not a lowercase ASCII name", s, o.host)
	}
	if (o.scheme == "https" && o.port == "443") || (o.scheme == "http" && o.port == "80") || strings.HasPrefix(o.port, "0") {
		t.Fatalf("%q: port %q not canonical", s, o.port)
	}
	again, err := parseOrigin(c)
	if err != nil || again != o {
		t.Fatalf("%q → %q re-parses as %+v, %v", s, c, again, err)
	}
	if strings.HasPrefix(o.host, "[") {
		return
	}
	low := strings.ToLower(s)
	if low != c && low != c+map[string]string{"https": ":443", "http": ":80"}[o.scheme] {
		t.Fatalf("%q parsed as %q: more than case and default port changed", s, c)
	}
}

var patternSeeds = []string{"https://*.gov.vn", "https://*.gov.vn:8443", "https://dichvucong.gov.vn",
	"https://dichvucong.gov.vn:443", "https://xn--tnh-2na.vn", "http://localhost:3000", "http://*.localhost",
	"https://*.GOV.vn", "https://*", "https://*.vn", "https://a.*.vn", "https://*gov.vn", "https://*.*.gov.vn",
	"http://intranet.gov.vn", "https://*.1.2.3.4", "*.gov.vn", "gov.vn", "https://gov.vn/", "file://x",
	"https://evil.example", "http://[::1]:8080", "https://*.[::1]"}

var govPattern = func() pattern {
	p, err := parsePattern("https://*.gov.vn", false)
	if err != nil {
		panic(err)
	}
	return p
}()

func FuzzPatternMatch(f *testing.F) {
	for i, p := range patternSeeds {
		f.Add(p, originSeeds[i%len(originSeeds)], i%3 == 0)
		f.Add(p, originSeeds[(i*7+3)%len(originSeeds)], false)
	}
	f.Fuzz(func(t *testing.T, pat, orig string, blocking bool) {
		o, oerr := parseOrigin(orig)
		// The lookalike rule, on the fixed pattern of the docs.
		if oerr == nil {
			suffix := strings.HasSuffix(o.host, ".gov.vn") && len(o.host) > len(".gov.vn")
			want := o.scheme == "https" && o.port == "" && suffix
			if got := govPattern.match(o); got != want {
				t.Fatalf("https://*.gov.vn matches %s = %v, want %v", o, got, want)
			}
		}
		p, err := parsePattern(pat, blocking)
		if err != nil {
			return
		}
		if strings.ToLower(pat) != pat || !utf8.ValidString(pat) {
			t.Fatalf("pattern %q accepted with uppercase or non-UTF-8", pat)
		}
		if again, err := parsePattern(p.raw, blocking); err != nil || !reflect.DeepEqual(again, p) {
			t.Fatalf("pattern %q re-parses as %+v, %v", pat, again, err)
		}
		if p.o.scheme == "http" && !loopback(p.o.host) && !(p.wildcard && p.o.host == "localhost") {
			t.Fatalf("http pattern %q for a host that is not loopback", pat)
		}
		if p.wildcard && (!strings.Contains(p.o.host, ".") && p.o.host != "localhost" || strings.HasPrefix(p.o.host, "[")) {
			t.Fatalf("wildcard pattern %q over %q", pat, p.o.host)
		}
		if oerr != nil {
			return
		}
		// A blocked host is blocked on every port and either scheme.
		if blocking {
			other := o
			other.port, other.scheme = p.o.port, p.o.scheme
			if p.match(o) != p.match(other) {
				t.Fatalf("blocking %q: %s and %s differ only in scheme or port", pat, o, other)
			}
		}
		if !p.match(o) {
			return
		}
		if !blocking && (o.scheme != p.o.scheme || o.port != p.o.port) {
			t.Fatalf("%q matches %s across scheme or port", pat, o)
		}
		sub := strings.HasSuffix(o.host, "."+p.o.host) && len(o.host) > len(p.o.host)+1
		switch {
		case p.wildcard && !sub:
			t.Fatalf("%q matches %s: not a subdomain", pat, o)
		case !p.wildcard && !blocking && o.host != p.o.host:
			t.Fatalf("exact %q matches %s", pat, o)
		case !p.wildcard && blocking && o.host != p.o.host && !sub:
			t.Fatalf("blocking %q matches %s", pat, o)
		}
	})
}

// ---------------------------------------------------------------------------
// Policy and config files

// settingsSeeds are the files of policy_test.go, broken and good.
var settingsSeeds = [][3]string{
	{"{\n  \"allowedOrigins\": [\"https://*.gov.vn\", \"http://localhost:3000\"],\n  \"blockedOrigins\": [\"https://bad.gov.vn\"]\n}", `{"allowLocalhost": true}`, ``},
	{`{"allowedOrigins": ["https://*.gov.vn"], "blockedOrigins": ["https://x.example"],
		"userApproval": false, "allowLocalhost": false, "port": 28500, "pinCacheSeconds": 0, "modules": []}`,
		`{"allowedOrigins": ["https://mine.example"], "blockedOrigins": ["https://ads.example"],
		"userApproval": true, "allowLocalhost": true, "port": 3000, "pinCacheSeconds": 60, "modules": ["/opt/mine.so"]}`,
		`{"format":1,"approved":[{"origin":"https://approved.example","at":"2025-01-01T00:00:00Z"}]}`},
	{"{\n  \"allowedOrigins\": [\n    \"https://a.gov.vn\"\n  \n}\n", ``, ``},
	{"{\n  \"userApproval\": \"no\"\n}", ``, ``},
	{"{\n\n  \"allowedOrigins\": \"https://a.gov.vn\"\n}", ``, ``},
	{"{\n  \"port\": 1,\n  \"allowOrigins\": []\n}", ``, ``},
	{"{\n  \"allowedOrigins\": [\n    \"https://a.gov.vn\",\n    \"https://*.GOV.vn\"\n  ]\n}", ``, ``},
	{"{\n  \"port\": 70000\n}", ``, ``},
	{"{\"modules\": [\"libfoo.so\"]}", ``, ``},
	{"{\n  \"port\": 1,", ``, ``},
	{"[]", ``, ``},
	{"{}\n{}", ``, ``},
	{``, `{`, ``},
	{``, ``, `{"approved":[{"origin":"https://*.example"}]}`},
	{``, `{"modules": ["\u002fopt\u002fx.so", "rel\u002fx.so"]}`, ``},
	{``, ``, `{"format":1,"approved":[{"origin":"https://a.example","at":"yesterday"}]}`},
	{``, "{\n \"pinCacheSeconds\": -1}", `{"approved":[{"origin":"https://ok.example","at":5}]}`},
	{`{"extensionIds": ["abcdefghijklmnopabcdefghijklmnop", "abcdefghijklmnopabcdefghijklmnop"]}`, `{"extensionIds": ["x"]}`, ``},
	{"{\"extensionIds\": [\n\"\\u0061bc\"]}", ``, ``},
	{`{"timestampUrl": "http://tsa.example:8080/tsa?td=sha256"}`, `{"timestampUrl": "https://tsa.user.example"}`, ``},
	{"{\n \"timestampUrl\": \"https://u:p@tsa.example\"}", ``, ``},
}

func FuzzSettings(f *testing.F) {
	for _, s := range settingsSeeds {
		f.Add([]byte(s[0]), []byte(s[1]), []byte(s[2]))
	}
	dir := f.TempDir()
	in := Paths{System: filepath.Join(dir, "in", "policy.json"), User: filepath.Join(dir, "in", "config.json"),
		Approvals: filepath.Join(dir, "in", "approvals.json"), systemMayBeOurs: os.Getuid() != 0}
	again := Paths{System: filepath.Join(dir, "again", "policy.json"), User: filepath.Join(dir, "again", "config.json"),
		Approvals: filepath.Join(dir, "again", "approvals.json"), systemMayBeOurs: os.Getuid() != 0}
	for _, d := range []string{"in", "again"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			f.Fatal(err)
		}
	}
	fileLine := regexp.MustCompile(`(^|: )` + regexp.QuoteMeta(filepath.Join(dir, "in")) + `/(policy|config|approvals)\.json:[0-9]+: `)
	f.Fuzz(func(t *testing.T, sys, usr, appr []byte) {
		for path, data := range map[string][]byte{in.System: sys, in.User: usr, in.Approvals: appr} {
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		pol, err := loadPolicy(in)
		if err != nil {
			if !fileLine.MatchString(err.Error()) {
				t.Fatalf("error without file:line: %v", err)
			}
			return
		}
		// Written back as one system policy, it reads the same.
		s := pol.Settings
		back := map[string]any{"allowedOrigins": s.AllowedOrigins, "blockedOrigins": s.BlockedOrigins,
			"userApproval": s.UserApproval, "allowLocalhost": s.AllowLocalhost, "modules": s.Modules, "port": s.Port,
			"pinCacheSeconds": s.PinCacheSeconds, "extensionIds": s.ExtensionIDs}
		if s.TimestampURL != "" {
			back["timestampUrl"] = s.TimestampURL
		}
		out, err := json.MarshalIndent(back, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(again.System, out, 0o600); err != nil {
			t.Fatal(err)
		}
		pol2, err := loadPolicy(again)
		if err != nil {
			t.Fatalf("re-marshalled policy %s: %v", out, err)
		}
		// Written as the system's, the modules are the system's, and no key
		// of the user's is left to ignore.
		s.ModulesFromSystem, s.IgnoredUserKeys = s.Modules != nil, nil
		if !reflect.DeepEqual(pol2.Settings, s) {
			t.Fatalf("re-parsed %+v, want %+v", pol2.Settings, s)
		}
		if len(pol2.allowed) != len(pol.allowed) || len(pol2.blocked) != len(pol.blocked) {
			t.Fatalf("re-parsed lists differ")
		}
		for i := range pol.allowed {
			if pol.allowed[i].pattern != pol2.allowed[i].pattern {
				t.Fatalf("allowed %d: %+v vs %+v", i, pol.allowed[i].pattern, pol2.allowed[i].pattern)
			}
		}
		for i := range pol.blocked {
			if pol.blocked[i].pattern != pol2.blocked[i].pattern {
				t.Fatalf("blocked %d: %+v vs %+v", i, pol.blocked[i].pattern, pol2.blocked[i].pattern)
			}
		}
	})
}

// TestPolicyErrorLines: the lines FuzzSettings found missing are the right
// ones.
func TestPolicyErrorLines(t *testing.T) {
	for _, c := range []struct{ user, approvals, want string }{
		{"{\n  \"modules\": [\n    \"\\u002fok.so\",\n    \"rel\\u002fx.so\"\n  ]\n}", "", "config.json:4: module"},
		{"{\n \"port\": 1,\n \"\\u0070inCacheSeconds\": -1\n}", "", "config.json:3: pinCacheSeconds"},
		{"", "{\"format\":1,\n\"approved\":[\n{\"origin\":\"https://a.example\",\n \"at\":\"yesterday\"}]}", "approvals.json:4: "},
		{"", "{\"approved\":[{\"origin\":\"https://a.example\",\"at\":\"2025-01-01T00:00:00Z\"},\n{\"origin\":\"https://b.example\",\n\"at\":5}]}", "approvals.json:3: "},
		{"", "{\"approved\":[{\"origin\":\"https://a.example\"},\n null]}", "approvals.json:2: "},
		{"", "{\"approved\":[\n{\"origin\":\"https://a.example\"},\n {\"origin\":\"https://b.example\"},\n\n{\"at\":\"2025-01-01T00:00:00Z\"}]}", "approvals.json:5: "},
	} {
		paths := testPaths(t)
		if c.user != "" {
			writeFile(t, paths.User, c.user)
		}
		if c.approvals != "" {
			writeFile(t, paths.Approvals, c.approvals)
		}
		if _, err := loadPolicy(paths); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q %q: error %v, want %q", c.user, c.approvals, err, c.want)
		}
	}
}
