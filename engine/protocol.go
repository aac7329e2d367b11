package engine

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"runtime"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"kyso.vn/kyso/protocol"
	"kyso.vn/kyso/token"
)

// Limits of the operations' params (the message and id limits are
// protocol's).
const (
	maxDescription = 256  // characters of a sign description
	maxBatch       = 1000 // hashes of one signBatch
	maxFilter      = 256  // characters of filter.issuer
)

// Request is a protocol v1 request, read once where its origin is
// established (ParseRequest) and handed on as it is: to this engine
// (Answer), or, by `kyso host`'s relay, as Raw to the agent. Params are
// decoded by the operation.
type Request struct {
	ID     string // "" when the request has no valid id
	Op     string
	Params json.RawMessage
	Raw    []byte   // the request as received
	fail   *failure // why it cannot be run (BAD_REQUEST); nil when it parsed
}

// ParseRequest reads a request with the strict reader. One that does not
// parse carries its failure, and Answer refuses it with BAD_REQUEST and its
// id when it has a valid one.
func ParseRequest(raw []byte) Request {
	r, f := parseRequest(raw)
	r.Raw, r.fail = raw, f
	return r
}

// drop lets go of the request's bytes once its documents are read from
// them: a signPdf request is most of 64 MiB, and holding it while the
// document is signed and answered would add its size to the agent's peak.
// (The front-end hands the bytes over: Handle's caller keeps none.)
// A large one is then collected at once, with what the transport left
// of reading it: the signed document and its answer, allocated next,
// reuse that memory instead of growing the agent by as much again before
// the collector's own pace comes round. The collection is cheap: the
// documents are pointer-free, so there is little to mark.
func (r *Request) drop() {
	large := len(r.Raw) > protocol.MaxMessage
	r.Params, r.Raw = nil, nil
	if large {
		runtime.GC()
	}
}

// envelope is the top level of a request. Unknown top-level keys are
// rejected like unknown params keys (see docs/protocol.md).
type envelope struct {
	ID     json.RawMessage `json:"id"`
	Op     json.RawMessage `json:"op"`
	Params inPlace         `json:"params"`
}

// inPlace is a JSON value left where it is in the request, not copied (a
// document's params are most of a 64 MiB message).
type inPlace []byte

// UnmarshalJSONFrom keeps the value as the reader has it: within the
// request's bytes, as unmarshalStrict reads them from one buffer (the
// reader's values are slices of it, valid as long as it is).
func (v *inPlace) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	val, err := dec.ReadValue()
	*v = inPlace(val)
	return err
}

// docString is a document given as a JSON string (signPdf's "pdf",
// signXml's "xml"): its bytes in place in the request when it has no
// escapes (base64 never has), else unescaped once. Never written to: it
// may be the request's bytes. given: the key was there, and not null.
type docString struct {
	text  []byte
	given bool
}

func (d *docString) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch dec.PeekKind() {
	case 'n':
		_, err := dec.ReadToken()
		return err
	case '"':
	default: // the error a string field gives
		var s string
		return jsonv2.UnmarshalDecode(dec, &s)
	}
	val, err := dec.ReadValue()
	if err != nil {
		return err
	}
	d.given = true
	if d.text = val[1 : len(val)-1]; bytes.IndexByte(d.text, '\\') >= 0 {
		d.text, err = jsontext.AppendUnquote(make([]byte, 0, len(val)), val)
	}
	return err
}

// parseRequest parses the envelope. When the id could be read it is
// returned even on failure, so the answer carries it.
func parseRequest(raw []byte) (Request, *failure) {
	var r Request
	if len(raw) > protocol.MaxDocumentMessage {
		return r, badRequest("message larger than 64 MiB")
	}
	if !utf8.Valid(raw) {
		return r, badRequest("message is not valid UTF-8")
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return r, badRequest("message is not a JSON object")
	}
	var env envelope
	if f := decodeStrict(raw, &env, ""); f != nil {
		// Try to recover the id for the answer (only when it is valid),
		// from the key spelled exactly "id", as the host and relay read it.
		var loose map[string]json.RawMessage
		if json.NewDecoder(bytes.NewReader(raw)).Decode(&loose) == nil {
			if id, ok := parseID(loose["id"]); ok {
				r.ID = id
			}
		}
		return r, f
	}
	id, ok := parseID(env.ID)
	if !ok {
		return r, badRequest("\"id\" must be a string of 1–%d characters", protocol.MaxID)
	}
	r.ID = id
	if len(env.Op) == 0 || json.Unmarshal(env.Op, &r.Op) != nil || r.Op == "" {
		return r, badRequest("\"op\" must be a non-empty string")
	}
	if len(raw) > protocol.MaxRequest(r.Op) {
		// Only the document operations carry documents.
		return r, badRequest("message larger than 1 MiB")
	}
	switch p := bytes.TrimSpace(env.Params); {
	case len(p) == 0, string(p) == "null":
		r.Params = json.RawMessage("{}") // params may be left out or null
	case p[0] != '{':
		return r, badRequest("\"params\" must be an object")
	default:
		r.Params = json.RawMessage(p)
	}
	return r, nil
}

func parseID(raw json.RawMessage) (string, bool) {
	var id string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &id) != nil {
		return "", false
	}
	n := utf8.RuneCountInString(id)
	return id, n >= 1 && n <= protocol.MaxID
}

// decodeStrict decodes one JSON object of a request into v with Kyso's one
// strict reader, and says what it refused (where: "params: " or "").
func decodeStrict(raw []byte, v any, where string) *failure {
	err := unmarshalStrict(raw, v)
	if err == nil {
		return nil
	}
	switch p := whatWentWrong(raw, err); p.kind {
	case duplicate:
		return badRequest("%skey %q given twice", where, p.name)
	case trailing:
		return badRequest("data after the JSON object")
	case unknown:
		return badRequest("%sunknown field %q", where, p.name)
	case wrongType:
		return badRequest("%s%q has the wrong type (%s)", where, p.name, p.got)
	}
	return badRequest("not valid JSON")
}

// Params of the operations. Unknown fields are rejected (BAD_REQUEST).
type getCertificateParams struct {
	Filter *struct {
		Issuer string `json:"issuer"`
	} `json:"filter"`
}

// Hash and Hashes are pointers so that one decoding tells "left out" (or
// null) from given, without a second pass over the params.
type signParams struct {
	CertificateID string    `json:"certificateId"`
	Hash          *string   `json:"hash"`
	Hashes        *[]string `json:"hashes"`
	HashFunction  string    `json:"hashFunction"`
	Scheme        string    `json:"scheme"`
	Description   string    `json:"description"`
	FileName      *string   `json:"fileName"` // signCms only
}

// signJob is a validated sign or signBatch.
type signJob struct {
	certID      string
	hashes      [][]byte
	hashFunc    token.HashFunc
	scheme      token.Scheme // "" = the key's default
	description string
	batch       bool   // signBatch, or signCms with "hashes"
	fileName    string // signCms's optional fileName
}

// How parseSign takes the hashes: sign's "hash", signBatch's "hashes", or
// signCms's either.
type hashesMode int

const (
	oneHash hashesMode = iota
	manyHashes
	hashOrHashes
)

// isCertID: 64 lowercase hex characters. A hand check rather than a
// package-level regexp: compiling one costs every kyso process (a cold
// `kyso host` most) ~0.5 ms of start-up and links in package regexp.
func isCertID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func parseSign(raw json.RawMessage, mode hashesMode) (signJob, *failure) {
	var p signParams
	if f := decodeStrict(raw, &p, "params: "); f != nil {
		return signJob{}, f
	}
	if p.FileName != nil && mode != hashOrHashes {
		return signJob{}, badRequest("params: unknown field %q", "fileName")
	}
	if mode == hashOrHashes {
		if p.FileName != nil {
			if f := checkFileName(*p.FileName); f != nil {
				return signJob{}, f
			}
		}
		switch {
		case p.Hash != nil && p.Hashes != nil:
			return signJob{}, badRequest("give \"hash\" or \"hashes\", not both")
		case p.Hashes != nil:
			mode = manyHashes
		default:
			mode = oneHash
		}
	}
	batch := mode == manyHashes
	j := signJob{batch: batch, description: p.Description}
	if p.FileName != nil {
		j.fileName = *p.FileName
	}
	if !isCertID(p.CertificateID) {
		return j, badRequest("\"certificateId\" must be 64 lowercase hex characters")
	}
	j.certID = p.CertificateID
	j.hashFunc = token.HashFunc(p.HashFunction)
	size := token.HashSize(j.hashFunc)
	if size == 0 {
		return j, badRequest("\"hashFunction\" must be one of SHA-224, SHA-256, SHA-384, SHA-512, SHA3-256, SHA3-384, SHA3-512")
	}
	switch token.Scheme(p.Scheme) {
	case "", token.PKCS1v15, token.PSS, token.ECDSA:
		j.scheme = token.Scheme(p.Scheme)
	default:
		return j, badRequest("\"scheme\" must be RSASSA-PKCS1-v1_5, RSASSA-PSS or ECDSA")
	}
	if err := checkDescription(p.Description); err != nil {
		return j, err
	}
	var list []string
	if batch {
		if p.Hash != nil {
			return j, badRequest("signBatch takes \"hashes\", not \"hash\"")
		}
		if p.Hashes == nil || len(*p.Hashes) < 1 || len(*p.Hashes) > maxBatch {
			return j, badRequest("\"hashes\" must hold 1–%d hashes", maxBatch)
		}
		list = *p.Hashes
	} else {
		if p.Hashes != nil {
			return j, badRequest("sign takes \"hash\"; use signBatch for several")
		}
		if p.Hash == nil || *p.Hash == "" {
			return j, badRequest("\"hash\" is missing")
		}
		list = []string{*p.Hash}
	}
	j.hashes = make([][]byte, 0, len(list))
	for i, s := range list {
		h, err := decodeB64(s)
		if err != nil {
			return j, badRequest("hash %d: %v", i, err)
		}
		if len(h) != size {
			return j, badRequest("hash %d: %d bytes, but %s hashes are %d bytes", i, len(h), j.hashFunc, size)
		}
		j.hashes = append(j.hashes, h)
	}
	return j, nil
}

// strictB64 is made once: Strict returns a fresh copy of the encoding.
var strictB64 = base64.StdEncoding.Strict()

// decodeB64 accepts only canonical standard base64 with padding: no
// URL-safe alphabet, no missing padding, no line breaks. Strict decoding
// refuses non-zero trailing bits and needs the padding, so apart from the
// CR and LF it skips, what it accepts is canonical.
func decodeB64[T string | []byte](s T) ([]byte, error) {
	b := make([]byte, strictB64.DecodedLen(len(s)))
	n, err := strictB64.Decode(b, []byte(s))
	for i := 0; err == nil && i < len(s); i++ {
		if s[i] == '\r' || s[i] == '\n' {
			err = errors.New("line break")
		}
	}
	if err != nil {
		return nil, errors.New("not standard base64 with padding")
	}
	return b[:n], nil
}

// bidi marks that could reorder what the dialog shows: refused so that a
// page cannot make its description read as something else.
func isBidiControl(r rune) bool {
	return r == 0x061C || r == 0x200E || r == 0x200F ||
		r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069
}

func checkDescription(d string) *failure { return checkText("description", d, maxDescription) }
