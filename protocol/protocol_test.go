package protocol

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestErrorResponse(t *testing.T) {
	got := ErrorResponse("a\"1", "BAD_REQUEST", "Yêu cầu <không> hợp lệ.")
	var r struct {
		ID    *string `json:"id"`
		OK    *bool   `json:"ok"`
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(got, &r); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	if r.ID == nil || *r.ID != "a\"1" || r.OK == nil || *r.OK ||
		r.Error.Code != "BAD_REQUEST" || r.Error.Message != "Yêu cầu <không> hợp lệ." {
		t.Errorf("got %s", got)
	}
	// An unknown id is still sent, as "".
	if got := string(ErrorResponse("", "INTERNAL", "x")); got != `{"id":"","ok":false,"error":{"code":"INTERNAL","message":"x"}}` {
		t.Errorf("got %s", got)
	}
}

func TestRequestID(t *testing.T) {
	for in, want := range map[string]string{
		`{"id":"r1","op":"version"}`:               "r1",
		` {"id":"ký-số"}`:                          "ký-số",
		`{"id":"` + strings.Repeat("ế", 64) + `"}`: strings.Repeat("ế", 64), // 64 characters, 192 bytes
		`{"id":"` + strings.Repeat("a", 65) + `"}`: "",
		`{"ID":"r1"}`:                              "", // the engine reads "id" only
		`{"Id":"r1","id":"r2"}`:                    "r2",
		`{"id":""}`:                                "",
		`{"id":7}`:                                 "",
		`["id","r1"]`:                              "",
		`{"id":"r1"`:                               "",
		``:                                         "",
	} {
		got, ok := RequestID([]byte(in))
		if got != want || ok != (want != "") {
			t.Errorf("%q: %q %v, want %q", in, got, ok, want)
		}
	}
}

func TestMaxRequest(t *testing.T) {
	for op, want := range map[string]int{
		"signPdf": MaxDocumentMessage, "signCms": MaxDocumentMessage, "signXml": MaxDocumentMessage,
		"sign": MaxMessage, "signBatch": MaxMessage, "version": MaxMessage, "getCertificate": MaxMessage,
		"": MaxMessage, "SignPdf": MaxMessage, "nope": MaxMessage,
	} {
		if got := MaxRequest(op); got != want {
			t.Errorf("MaxRequest(%q) = %d, want %d", op, got, want)
		}
	}
	for _, op := range Ops {
		if MaxRequest(op) == MaxDocumentMessage && !IsDocumentOp(op) {
			t.Errorf("%s", op)
		}
	}
}
