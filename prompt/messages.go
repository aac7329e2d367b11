package prompt

import "fmt"

// Every user-facing string of Kyso lives in this table, Vietnamese first with
// an English fallback, so that a translation is one place to check. The
// engine reuses it for the "message" of error responses: T(lang, "err."+code);
// the agent ("agent.*") and the host ("host.*") for the errors they answer
// before the engine sees a request.
//
// Templates take fmt verbs only where the key's comment says so; the dialog
// texts carry no markup (markup is added per OS, see dialogtext_*.go).
var messages = map[string]map[string]string{
	"vi": {
		// Consent for a new origin. consent.text: %s = origin.
		"consent.title":  "Kyso — Cho phép trang web?",
		"consent.text":   "%s\n\nTrang web này muốn dùng chữ ký số (token USB) của bạn.\nChỉ cho phép nếu bạn tin trang này và chính bạn đang thao tác trên đó.",
		"consent.once":   "Cho phép một lần",
		"consent.always": "Luôn cho phép",
		"consent.deny":   "Từ chối",

		// Certificate picker. picker.text: %s = origin.
		// picker.item: %d = number, then holder, issuer, expiry date, token.
		"picker.title":   "Kyso — Chọn chứng thư số",
		"picker.text":    "%s\nyêu cầu chứng thư số của bạn. Chọn chứng thư sẽ gửi cho trang web này:",
		"picker.item":    "%d. %s — cấp bởi: %s — hạn đến: %s — token: %s",
		"picker.expired": "(hết hạn)",
		"picker.ok":      "Chọn",
		"picker.cancel":  "Hủy",
		"date.layout":    "02/01/2006",

		// PIN entry. pin.origin, pin.holder, pin.token: %s; pin.signN: %d.
		"pin.title":       "Kyso — Nhập mã PIN",
		"pin.origin":      "Trang web: %s",
		"pin.signOne":     "Ký số một tài liệu",
		"pin.signN":       "Ký %d tài liệu",
		"pin.holder":      "Chứng thư: %s",
		"pin.token":       "Token: %s",
		"pin.description": "Nội dung do trang web cung cấp, chưa được kiểm chứng:",
		"pin.wrong":       "Mã PIN không đúng.",
		"pin.countLow":    "Token báo đã có lần nhập sai PIN; số lần thử còn lại ít.",
		"pin.finalTry":    "Còn 1 lần thử; nhập sai nữa token sẽ bị khóa.",
		"pin.prompt":      "Nhập mã PIN của token:",
		"pin.promptShort": "Mã PIN của token %s:",
		"pin.ok":          "Ký",
		"pin.cancel":      "Hủy",

		// Error messages for protocol responses, keyed by error code.
		"err.BAD_REQUEST":           "Yêu cầu không hợp lệ.",
		"err.UNKNOWN_OP":            "Thao tác không được hỗ trợ.",
		"err.ORIGIN_DENIED":         "Trang web này không được phép dùng chữ ký số.",
		"err.USER_CANCELLED":        "Người dùng đã hủy.",
		"err.TIMEOUT":               "Hết thời gian chờ người dùng trả lời.",
		"err.BUSY":                  "Đang có một hộp thoại khác mở; hãy thử lại sau.",
		"err.RATE_LIMITED":          "Trang web này đã bị từ chối nhiều lần; hãy thử lại sau một phút.",
		"err.NO_TOKEN":              "Không tìm thấy token. Hãy cắm token USB và thử lại.",
		"err.NO_CERTIFICATE":        "Token không có chứng thư số dùng để ký.",
		"err.CERTIFICATE_NOT_FOUND": "Không tìm thấy chứng thư số đã chọn trên các token đang cắm.",
		"err.UNSUPPORTED_ALGORITHM": "Khóa của chứng thư số không hỗ trợ thuật toán này.",
		"err.PIN_LOCKED":            "Mã PIN của token đã bị khóa. Hãy liên hệ đơn vị cấp chứng thư để mở khóa.",
		"err.TOKEN_REMOVED":         "Token đã bị rút ra trong khi đang thực hiện.",
		"err.TOKEN_ERROR":           "Token báo lỗi.",
		"err.INTERNAL":              "Lỗi nội bộ của Kyso; chi tiết có trong nhật ký.",
		// Not a code: the engine's message when the system policy cannot be read.
		"err.POLICY_BROKEN": "Tệp chính sách của quản trị viên bị lỗi; Kyso từ chối mọi trang web cho đến khi tệp được sửa.",

		// Errors the agent's transports answer by themselves, before the
		// engine sees a request (code BAD_REQUEST or BUSY).
		"agent.binary":   "Yêu cầu không hợp lệ: chỉ nhận thông điệp văn bản JSON.",
		"agent.tooLarge": "Yêu cầu không hợp lệ: thông điệp lớn hơn 1 MiB.",
		"agent.envelope": "Yêu cầu không hợp lệ: cần {\"origin\", \"request\"}.",
		"agent.busy":     "Có quá nhiều yêu cầu đang chờ trên kết nối này.",

		// Errors the native-messaging host answers by itself, before the
		// agent sees a request (code BAD_REQUEST or INTERNAL).
		"host.frame":     "Thông điệp không hợp lệ.",
		"host.tooLarge":  "Thông điệp lớn hơn 1 MiB.",
		"host.envelope":  "Thông điệp từ tiện ích thiếu nguồn gốc (origin) hoặc yêu cầu.",
		"host.request":   "Yêu cầu phải là một đối tượng JSON có id là chuỗi 1–64 ký tự.",
		"host.respLarge": "Kết quả lớn hơn 1 MiB; hãy ký ít mã băm hơn trong một lần.",
		"host.agentLost": "Mất kết nối tới dịch vụ Kyso.",
		"host.internal":  "Lỗi nội bộ của Kyso.",
		"host.cancelled": "Thao tác đã bị huỷ.",
	},
	"en": {
		"consent.title":  "Kyso — Allow this website?",
		"consent.text":   "%s\n\nThis website wants to use your digital signature (USB token).\nAllow it only if you trust this site and you are the one using it.",
		"consent.once":   "Allow once",
		"consent.always": "Always allow",
		"consent.deny":   "Deny",

		"picker.title":   "Kyso — Choose a certificate",
		"picker.text":    "%s\nasks for your certificate. Choose the certificate to give this website:",
		"picker.item":    "%d. %s — issued by: %s — valid until: %s — token: %s",
		"picker.expired": "(expired)",
		"picker.ok":      "Choose",
		"picker.cancel":  "Cancel",
		"date.layout":    "2006-01-02",

		"pin.title":       "Kyso — Enter PIN",
		"pin.origin":      "Website: %s",
		"pin.signOne":     "Sign one document",
		"pin.signN":       "Sign %d documents",
		"pin.holder":      "Certificate: %s",
		"pin.token":       "Token: %s",
		"pin.description": "Supplied by the page, not verified:",
		"pin.wrong":       "Wrong PIN.",
		"pin.countLow":    "The token reports wrong PIN tries; few tries are left.",
		"pin.finalTry":    "1 try left; one more wrong PIN locks the token.",
		"pin.prompt":      "Enter the token's PIN:",
		"pin.promptShort": "PIN of token %s:",
		"pin.ok":          "Sign",
		"pin.cancel":      "Cancel",

		"err.BAD_REQUEST":           "The request is not valid.",
		"err.UNKNOWN_OP":            "Unknown operation.",
		"err.ORIGIN_DENIED":         "This website may not use your digital signature.",
		"err.USER_CANCELLED":        "Cancelled by the user.",
		"err.TIMEOUT":               "The user did not answer in time.",
		"err.BUSY":                  "Another dialog is open; try again later.",
		"err.RATE_LIMITED":          "This website was declined too often; try again in a minute.",
		"err.NO_TOKEN":              "No token found. Plug in your USB token and try again.",
		"err.NO_CERTIFICATE":        "The token has no signing certificate.",
		"err.CERTIFICATE_NOT_FOUND": "The chosen certificate is not on any token plugged in.",
		"err.UNSUPPORTED_ALGORITHM": "The certificate's key does not support this algorithm.",
		"err.PIN_LOCKED":            "The token's PIN is locked. Contact your certificate provider to unlock it.",
		"err.TOKEN_REMOVED":         "The token was removed during the operation.",
		"err.TOKEN_ERROR":           "The token reported an error.",
		"err.INTERNAL":              "Kyso internal error; details are in the log.",
		"err.POLICY_BROKEN":         "The administrator's policy file is broken; Kyso denies every website until it is fixed.",

		"agent.binary":   "Bad request: only JSON text messages are accepted.",
		"agent.tooLarge": "Bad request: the message is larger than 1 MiB.",
		"agent.envelope": "Bad request: expected {\"origin\", \"request\"}.",
		"agent.busy":     "Too many requests are pending on this connection.",

		"host.frame":     "The message is not valid.",
		"host.tooLarge":  "The message is larger than 1 MiB.",
		"host.envelope":  "The extension's message lacks the origin or the request.",
		"host.request":   "The request must be a JSON object whose id is a string of 1–64 characters.",
		"host.respLarge": "The result is larger than 1 MiB; sign fewer hashes at a time.",
		"host.agentLost": "The connection to the Kyso service was lost.",
		"host.internal":  "Kyso internal error.",
		"host.cancelled": "The operation was cancelled.",
	},
}

// T returns the message key in lang ("vi" or "en"; anything else is English),
// formatted with args when given. A key missing in lang falls back to
// English, then to the key itself, so a missing translation never hides an
// error.
func T(lang, key string, args ...any) string {
	s := tmpl(lang, key)
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

func tmpl(lang, key string) string {
	if s, ok := messages[lang][key]; ok {
		return s
	}
	if s, ok := messages["en"][key]; ok {
		return s
	}
	return key
}
