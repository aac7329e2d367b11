package wire

import (
	"encoding/json"
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
