package engine

import (
	"bytes"
	"errors"
	"reflect"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// unmarshalStrict is Kyso's one JSON reader, for requests and for the
// policy files alike: one value into v in one pass, refusing unknown keys,
// keys that match a field only without regard to case ("hashfunction" for
// "hashFunction"), a key given twice, wrong types and trailing data.
// encoding/json/v2 (its mirror module until Go 1.27 ships it) does all of
// it, where encoding/json matched keys case-insensitively, let the last of
// two keys win, and needed a second decoding to catch either. Invalid UTF-8
// is let through: requests are checked to be UTF-8 first, so it only lets
// an escaped lone surrogate ("\ud800") read as U+FFFD, as encoding/json
// did. jsontext.Value fields keep their member's JSON as is.
func unmarshalStrict(data []byte, v any) error {
	return jsonv2.Unmarshal(data, v, jsonv2.RejectUnknownMembers(true), jsontext.AllowInvalidUTF8(true))
}

// problemKind sorts what a strict read refused.
type problemKind int

const (
	notJSON   problemKind = iota // broken JSON
	trailing                     // data after the first value
	duplicate                    // a key given twice
	unknown                      // a key no field has
	wrongType                    // a value of the wrong JSON kind
	invalid                      // a value its type refused (invalidValue)
)

// problem is what a strict read refused, and where: the byte offset in the
// data, and the member concerned.
type problem struct {
	kind   problemKind
	offset int64
	name   string         // the member ("" at the top)
	got    jsontext.Kind  // wrongType: what the data holds
	value  jsontext.Value // wrongType: the value, when a string or number
	want   reflect.Type   // wrongType: what the field takes
	err    error          // notJSON, invalid: why
}

// invalidValue is the error of a value that reads as JSON but that its
// type refuses (a relative module path, a port out of range): UnmarshalJSONFrom
// methods return it, and the reader reports it where the value is written.
type invalidValue struct{ err error }

func (e *invalidValue) Error() string { return e.err.Error() }

// whatWentWrong sorts the error of unmarshalStrict(data, …).
func whatWentWrong(data []byte, err error) problem {
	var sem *jsonv2.SemanticError
	var syn *jsontext.SyntacticError
	var bad *invalidValue
	switch {
	case errors.Is(err, jsontext.ErrDuplicateName) && errors.As(err, &syn):
		return problem{kind: duplicate, offset: syn.ByteOffset, name: memberName(syn.JSONPointer)}
	case errors.As(err, &syn):
		kind := notJSON
		if afterFirstValue(data, syn.ByteOffset) {
			kind = trailing
		}
		return problem{kind: kind, offset: syn.ByteOffset, err: syn.Err}
	case errors.As(err, &sem) && errors.As(err, &bad):
		return problem{kind: invalid, offset: sem.ByteOffset, name: memberName(sem.JSONPointer), err: bad.err}
	case errors.As(err, &sem) && errors.Is(err, jsonv2.ErrUnknownName):
		return problem{kind: unknown, offset: sem.ByteOffset, name: memberName(sem.JSONPointer)}
	case errors.As(err, &sem) && sem.JSONKind != 0:
		return problem{kind: wrongType, offset: sem.ByteOffset, name: memberName(sem.JSONPointer),
			got: sem.JSONKind, value: sem.JSONValue, want: sem.GoType}
	case errors.As(err, &sem):
		return problem{kind: notJSON, offset: sem.ByteOffset, err: sem.Err}
	}
	return problem{kind: notJSON, offset: int64(len(data)), err: err}
}

// afterFirstValue reports whether offset lies past data's first JSON value,
// which is complete: an error there is trailing data, not a broken value.
// (Only for a refused read: what was read is not read again otherwise.)
func afterFirstValue(data []byte, offset int64) bool {
	dec := jsontext.NewDecoder(bytes.NewReader(data))
	if _, err := dec.ReadValue(); err != nil {
		return false
	}
	return offset >= dec.InputOffset()
}

// memberName is the member a JSON pointer ends with ("/params/hash":
// "hash"; "/allowedOrigins/2": "allowedOrigins").
func memberName(p jsontext.Pointer) string {
	name := ""
	for tok := range p.Tokens() {
		if !isIndex(tok) {
			name = tok
		}
	}
	return name
}

func isIndex(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
