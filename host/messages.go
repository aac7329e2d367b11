package host

import (
	"encoding/json"
	"os"
	"strings"
)

// Error codes the host itself answers with (protocol v1).
const (
	codeBadRequest = "BAD_REQUEST"
	codeInternal   = "INTERNAL"
)

// Messages of the errors the host answers by itself, before the engine sees
// a request. Vietnamese first; English when the locale says another language.
var messages = map[string][2]string{ // key → {vi, en}
	"frame":     {"Thông điệp không hợp lệ.", "The message is not valid."},
	"tooLarge":  {"Thông điệp lớn hơn 1 MiB.", "The message is larger than 1 MiB."},
	"envelope":  {"Thông điệp từ tiện ích thiếu nguồn gốc (origin) hoặc yêu cầu.", "The extension's message lacks the origin or the request."},
	"request":   {"Yêu cầu phải là một đối tượng JSON có id là chuỗi 1–64 ký tự.", "The request must be a JSON object whose id is a string of 1–64 characters."},
	"respLarge": {"Kết quả lớn hơn 1 MiB; hãy ký ít mã băm hơn trong một lần.", "The result is larger than 1 MiB; sign fewer hashes at a time."},
	"agentLost": {"Mất kết nối tới dịch vụ Kyso.", "The connection to the Kyso service was lost."},
	"internal":  {"Lỗi nội bộ của Kyso.", "Kyso internal error."},
	"cancelled": {"Thao tác đã bị huỷ.", "The operation was cancelled."},
}

// english reports whether the user's locale asks for another language than
// Vietnamese; nothing set (or C/POSIX) keeps Vietnamese, as the engine does.
func english() bool {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"} {
		v := strings.ToLower(os.Getenv(k))
		if v == "" || v == "c" || v == "posix" || strings.HasPrefix(v, "c.") {
			continue
		}
		return !strings.HasPrefix(v, "vi")
	}
	return false
}

func message(key string) string {
	m := messages[key]
	if english() {
		return m[1]
	}
	return m[0]
}

// errorResponse is a protocol v1 failure.
func errorResponse(id, code, key string) []byte {
	b, _ := json.Marshal(struct {
		ID    string `json:"id"`
		OK    bool   `json:"ok"`
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}{ID: id, Error: struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}{code, message(key)}})
	return b
}
