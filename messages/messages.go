// Package messages is Kyso's one table of person-facing text: the dialogs,
// the errors of the protocol and of the front-ends, the command line and its
// --help, the doctor's findings, and (generated from it, see gen.go) the
// messages kyso.js shows. Vietnamese first, English as the fallback; the
// language rule is Lang. Each message is a Go value holding both languages,
// written {vi, en}: a message that does not exist fails to compile, and so
// does one without its English.
//
// Templates take fmt verbs only where the comment says so; dialog texts
// carry no markup (prompt adds it per OS).
package messages

import (
	"fmt"

	"kyso.vn/kyso/protocol"
)

// Text is one message in Vietnamese and English.
type Text struct{ VI, EN string }

// In is the message in lang ("vi", else English), formatted with args when
// given.
func (t Text) In(lang string, args ...any) string {
	s := t.EN
	if lang == "vi" {
		s = t.VI
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// With is the message formatted with args in both languages, for a reader
// who picks the language later (the doctor's findings).
func (t Text) With(args ...any) Text {
	if len(args) == 0 {
		return t
	}
	return Text{fmt.Sprintf(t.VI, args...), fmt.Sprintf(t.EN, args...)}
}

// Error is the message of an error code, for the "message" of a protocol
// response and for kyso.js (messages.json). Every code of protocol.Codes
// and protocol.ClientCodes has one (TestEveryCodeHasAMessage).
func Error(code protocol.Code) Text {
	if t, ok := errorTexts[code]; ok {
		return t
	}
	return errorTexts[protocol.Internal]
}

var errorTexts = map[protocol.Code]Text{
	protocol.BadRequest:           {"Yêu cầu không hợp lệ.", "The request is not valid."},
	protocol.UnknownOp:            {"Thao tác không được hỗ trợ.", "Unknown operation."},
	protocol.OriginDenied:         {"Trang web này không được phép dùng chữ ký số.", "This website may not use your digital signature."},
	protocol.UserCancelled:        {"Người dùng đã hủy.", "Cancelled by the user."},
	protocol.Timeout:              {"Hết thời gian chờ người dùng trả lời.", "The user did not answer in time."},
	protocol.Busy:                 {"Đang có một hộp thoại khác mở; hãy thử lại sau.", "Another dialog is open; try again later."},
	protocol.RateLimited:          {"Trang web này đã bị từ chối nhiều lần; hãy thử lại sau một phút.", "This website was declined too often; try again in a minute."},
	protocol.NoToken:              {"Không tìm thấy token. Hãy cắm token USB và thử lại.", "No token found. Plug in your USB token and try again."},
	protocol.NoCertificate:        {"Token không có chứng thư số dùng để ký.", "The token has no signing certificate."},
	protocol.CertificateNotFound:  {"Không tìm thấy chứng thư số đã chọn trên các token đang cắm.", "The chosen certificate is not on any token plugged in."},
	protocol.UnsupportedAlgorithm: {"Khóa của chứng thư số không hỗ trợ thuật toán này.", "The certificate's key does not support this algorithm."},
	protocol.PINLocked:            {"Mã PIN của token đã bị khóa. Hãy liên hệ đơn vị cấp chứng thư để mở khóa.", "The token's PIN is locked. Contact your certificate provider to unlock it."},
	protocol.TokenRemoved:         {"Token đã bị rút ra trong khi đang thực hiện.", "The token was removed during the operation."},
	protocol.TokenError:           {"Token báo lỗi.", "The token reported an error."},
	protocol.BadDocument:          {"Không ký được tài liệu: tài liệu không đọc được, đã bị mã hóa, không cho phép thay đổi, hoặc thiếu phần tử cần ký.", "The document cannot be signed: it cannot be read, is encrypted, forbids changes, or lacks the element named."},
	protocol.TimestampFailed:      {"Máy chủ cấp dấu thời gian không trả lời hợp lệ; tài liệu chưa được ký.", "The timestamp server did not give a valid answer; nothing was signed."},
	protocol.NoDialog:             {"Kyso không hiển thị được hộp thoại (không có phiên làm việc trên màn hình?); không có gì được cho phép hay được ký.", "Kyso could not show its dialog (no desktop session?); nothing was allowed or signed."},
	protocol.Internal:             {"Lỗi nội bộ của Kyso; chi tiết có trong nhật ký.", "Kyso internal error; details are in the log."},
	// Added by kyso.js on the page's side; the agent never answers them.
	protocol.NotInstalled:        {"Chưa tìm thấy Kyso trên máy này. Hãy cài Kyso và tiện ích mở rộng Kyso cho trình duyệt, rồi tải lại trang.", "Kyso was not found on this computer. Install Kyso and the Kyso browser extension, then reload the page."},
	protocol.LocalNetworkBlocked: {"Trình duyệt đã chặn trang này kết nối tới Kyso trên máy của bạn. Hãy cho phép trang truy cập \"ứng dụng và dịch vụ khác trên thiết bị này\" (trong phần cài đặt trang, bên trái thanh địa chỉ) hoặc cài tiện ích mở rộng Kyso, rồi thử lại.", "The browser blocked this page from reaching Kyso on your computer. Allow the site to access other apps and services on this device (site settings, left of the address bar) or install the Kyso browser extension, then try again."},
}

// PolicyBroken is the engine's ORIGIN_DENIED message when the system policy
// cannot be read.
var PolicyBroken = Text{"Tệp chính sách của quản trị viên bị lỗi; Kyso từ chối mọi trang web cho đến khi tệp được sửa.", "The administrator's policy file is broken; Kyso denies every website until it is fixed."}

var (
	// Consent for a new origin. ConsentText: %s = origin.
	ConsentTitle  = Text{"Kyso — Cho phép trang web?", "Kyso — Allow this website?"}
	ConsentText   = Text{"%s\n\nTrang web này muốn dùng chữ ký số (token USB) của bạn.\nChỉ cho phép nếu bạn tin trang này và chính bạn đang thao tác trên đó.", "%s\n\nThis website wants to use your digital signature (USB token).\nAllow it only if you trust this site and you are the one using it."}
	ConsentOnce   = Text{"Cho phép một lần", "Allow once"}
	ConsentAlways = Text{"Luôn cho phép", "Always allow"}
	ConsentDeny   = Text{"Từ chối", "Deny"}

	// Certificate picker. PickerText: %s = origin.
	// PickerItem: %d = number, then holder, issuer, expiry date, token.
	PickerTitle   = Text{"Kyso — Chọn chứng thư số", "Kyso — Choose a certificate"}
	PickerText    = Text{"%s\nyêu cầu chứng thư số của bạn. Chọn chứng thư sẽ gửi cho trang web này:", "%s\nasks for your certificate. Choose the certificate to give this website:"}
	PickerItem    = Text{"%d. %s — cấp bởi: %s — hạn đến: %s — token: %s", "%d. %s — issued by: %s — valid until: %s — token: %s"}
	PickerExpired = Text{"(hết hạn)", "(expired)"}
	PickerOK      = Text{"Chọn", "Choose"}
	PickerCancel  = Text{"Hủy", "Cancel"}
	DateLayout    = Text{"02/01/2006", "2006-01-02"}

	// PIN entry. PINOrigin, PINHolder, PINToken: %s; PINSignN: %d.
	PINTitle       = Text{"Kyso — Nhập mã PIN", "Kyso — Enter PIN"}
	PINOrigin      = Text{"Trang web: %s", "Website: %s"}
	PINSignOne     = Text{"Ký số một tài liệu", "Sign one document"}
	PINSignN       = Text{"Ký %d tài liệu", "Sign %d documents"}
	PINHolder      = Text{"Chứng thư: %s", "Certificate: %s"}
	PINToken       = Text{"Token: %s", "Token: %s"}
	PINDescription = Text{"Nội dung do trang web cung cấp, chưa được kiểm chứng:", "Supplied by the page, not verified:"}
	PINWrong       = Text{"Mã PIN không đúng.", "Wrong PIN."}
	PINCountLow    = Text{"Token báo đã có lần nhập sai PIN; số lần thử còn lại ít.", "The token reports wrong PIN tries; few tries are left."}
	PINFinalTry    = Text{"Còn 1 lần thử; nhập sai nữa token sẽ bị khóa.", "1 try left; one more wrong PIN locks the token."}
	PINPrompt      = Text{"Nhập mã PIN của token:", "Enter the token's PIN:"}
	PINPromptShort = Text{"Mã PIN của token %s:", "PIN of token %s:"}
	PINOK          = Text{"Ký", "Sign"}
	PINCancel      = Text{"Hủy", "Cancel"}

	// The lines every signing dialog shows about the operation (the PIN
	// dialog, the confirmation, the PIN pad and progress windows), besides
	// PINOrigin, PINSignOne/PINSignN, PINHolder, PINToken and
	// PINDescription. SignDocuments: %d = count. DocPages: %d. DocSHA256:
	// %s = the first 16 hex digits. DocMore: %d = documents not listed.
	SignDocuments = Text{"Ký %d tài liệu:", "Sign %d documents:"}
	DocPages      = Text{"%d trang", "%d pages"}
	DocSHA256     = Text{"SHA-256 %s…", "SHA-256 %s…"}
	DocMore       = Text{"… và %d tài liệu khác", "… and %d more documents"}

	// Confirmation of a signing operation while the token is still logged
	// in from an earlier PIN (pinCacheSeconds): no PIN in the title.
	ConfirmTitle  = Text{"Kyso — Xác nhận ký số", "Kyso — Confirm signing"}
	ConfirmPrompt = Text{"Token vẫn còn đăng nhập từ lần nhập mã PIN trước, nên không cần nhập lại.\nChỉ bấm Ký nếu chính bạn vừa yêu cầu ký trên trang web này.", "The token is still logged in from your earlier PIN, so it is not asked again.\nPress Sign only if you yourself just asked this website to sign."}
	ConfirmOK     = Text{"Ký", "Sign"}
	ConfirmCancel = Text{"Hủy", "Cancel"}

	// The PIN pad window (CKF_PROTECTED_AUTHENTICATION_PATH): shown while
	// the reader waits for the PIN; its title contains PIN.
	PadTitle  = Text{"Kyso — Nhập mã PIN trên đầu đọc", "Kyso — Enter the PIN on the reader"}
	PadPrompt = Text{"Hãy nhập mã PIN trên bàn phím của đầu đọc thẻ (không nhập trên máy tính).", "Enter the PIN on the card reader's keypad (not on the computer)."}

	// The "plug in your token" window. PlugInText: %s = origin.
	PlugInTitle = Text{"Kyso — Cắm token USB", "Kyso — Plug in your USB token"}
	PlugInText  = Text{"Trang web: %s\nmuốn ký số nhưng chưa thấy token.\n\nHãy cắm token USB có chứng thư số của bạn vào máy.\nKyso sẽ tự tiếp tục ngay khi thấy token.", "Website: %s\nwants to sign, but no token is plugged in.\n\nPlug in the USB token that holds your certificate.\nKyso goes on by itself as soon as it sees the token."}

	// The progress window of a long signing operation. ProgressDone: %d
	// done, %d total.
	ProgressTitle = Text{"Kyso — Đang ký số", "Kyso — Signing"}
	ProgressDone  = Text{"Đã ký %d/%d", "Signed %d of %d"}

	// The buttons of the plug-in, PIN pad and progress windows: Cancel,
	// and the OK button zenity always shows, greyed until a progress bar is
	// full.
	WindowCancel = Text{"Hủy", "Cancel"}
	WindowDone   = Text{"Xong", "Done"}

	// TokenFaulty is the TOKEN_ERROR message when a signature the token
	// returned does not verify with the certificate's public key.
	TokenFaulty = Text{"Token trả về một chữ ký sai (không khớp với khóa công khai của chứng thư số); Kyso không gửi chữ ký đó đi. Token có thể bị hỏng: hãy liên hệ đơn vị cấp token.", "The token returned a faulty signature (it does not verify with the certificate's public key); Kyso did not send it. The token may be faulty: contact its provider."}

	// Errors the agent's transports answer by themselves, before the
	// engine sees a request (code BAD_REQUEST or BUSY).
	AgentBinary       = Text{"Yêu cầu không hợp lệ: chỉ nhận thông điệp văn bản JSON.", "Bad request: only JSON text messages are accepted."}
	AgentEnvelope     = Text{"Yêu cầu không hợp lệ: thông điệp hỏng trên socket cục bộ.", "Bad request: a broken message on the local socket."}
	AgentOtherVersion = Text{"Yêu cầu không hợp lệ: tiện ích Kyso và tác tử Kyso đang chạy là hai phiên bản khác nhau; hãy đăng nhập lại để khởi động lại Kyso.", "Bad request: the Kyso host and the running Kyso agent are of different versions; log in again to restart Kyso."}
	AgentBusy         = Text{"Có quá nhiều yêu cầu đang chờ trên kết nối này.", "Too many requests are pending on this connection."}
	AgentMemory       = Text{"Kyso đang xử lý quá nhiều văn bản lớn cùng lúc; hãy thử lại sau ít phút.", "Kyso is handling too many large documents at once; try again in a moment."}

	// Errors the native-messaging host answers by itself, before the
	// agent sees a request (code BAD_REQUEST or INTERNAL).
	HostFrame     = Text{"Thông điệp không hợp lệ.", "The message is not valid."}
	HostTooLarge  = Text{"Thông điệp quá lớn: tối đa 64 MiB cho yêu cầu ký văn bản (signPdf, signCms, signXml), 1 MiB cho các yêu cầu khác.", "The message is too large: at most 64 MiB for a document request (signPdf, signCms, signXml), 1 MiB for any other."}
	HostEnvelope  = Text{"Thông điệp từ tiện ích thiếu nguồn gốc (origin) hoặc yêu cầu.", "The extension's message lacks the origin or the request."}
	HostRequest   = Text{"Yêu cầu phải là một đối tượng JSON có id là chuỗi 1–64 ký tự.", "The request must be a JSON object whose id is a string of 1–64 characters."}
	HostRespLarge = Text{"Kết quả lớn hơn 96 MiB; hãy ký ít văn bản hơn trong một lần.", "The result is larger than 96 MiB; sign fewer documents at a time."}
	HostAgentLost = Text{"Mất kết nối tới dịch vụ Kyso.", "The connection to the Kyso service was lost."}
	HostCancelled = Text{"Thao tác đã bị huỷ.", "The operation was cancelled."}

	// Command line (cmd/kyso), named <Command><Name>. Layout (indent,
	// ✔/✘ marks, newlines) stays in the code; the words live here.
	// InstallWarning: %s = the warning.
	InstallDone           = Text{"Đã cài Kyso. Kiểm tra bằng: kyso doctor", "Kyso is installed. Check it with: kyso doctor"}
	InstallNeedRoot       = Text{"Cài cho mọi người dùng cần quyền root/quản trị viên.", "Installing for all users needs root/administrator rights."}
	InstallWarning        = Text{"cảnh báo: %s", "warning: %s"}
	UninstallDone         = Text{"Đã gỡ Kyso (cấu hình và các trang bạn đã cho phép vẫn được giữ).", "Kyso is removed (your config and approved sites are kept)."}
	UninstallNotInstalled = Text{"Kyso chưa được cài cho phạm vi này; không có gì để gỡ.", "Kyso is not installed for this scope; nothing to remove."}

	// Install's refusal and uninstall's stop of the agent.
	// InstallUntrusted: %s = the error naming the program or folder.
	InstallUntrusted      = Text{"Không cài cho mọi người dùng: người dùng thường có thể thay chương trình này (%s). Hãy đặt kyso vào thư mục chỉ quản trị viên được ghi (ví dụ /usr/local/bin hoặc Program Files) rồi chạy lại.", "Not installing for all users: ordinary users could replace this program (%s). Put kyso in a folder only administrators can write (e.g. /usr/local/bin or Program Files) and run it again."}
	UninstallAgentStopped = Text{"đã dừng tác tử Kyso đang chạy", "stopped the running Kyso agent"}

	// --help of the command line, one style for every command
	// (cmd/kyso/flags.go, docs/cli.md): `kyso --help` is HelpIntro,
	// HelpUsage, one line per command (Help<Command>), HelpMore; a
	// command's help is HelpCommandUsage (%s = command, %s = its synopsis,
	// <Command>Synopsis or HelpAnyFlags), its line, its <Command>More
	// paragraph if any, then HelpFlags and one line per flag: --name, the
	// value's name (Arg*), the flag's text (Flag*). HelpUnknown,
	// HelpUnexpected, HelpBinNotAbs: %q = the word. HostSynopsis: %s = the
	// Firefox add-on id.
	HelpIntro         = Text{"Kyso — ký số: cho phép trang web nhờ token USB của bạn ký số, khi bạn đồng ý.", "Kyso — ký số: lets web pages ask your USB token to sign, with your consent."}
	HelpUsage         = Text{"Cách dùng: kyso <lệnh> [tùy chọn]\n\nCác lệnh:", "Usage: kyso <command> [flags]\n\nCommands:"}
	HelpMore          = Text{"Xem hướng dẫn của một lệnh: kyso help LỆNH (hoặc kyso LỆNH --help). Phiên bản: kyso --version.", "A command's help: kyso help COMMAND (or kyso COMMAND --help). Version: kyso --version."}
	HelpCommandUsage  = Text{"Cách dùng: kyso %s %s", "Usage: kyso %s %s"}
	HelpAnyFlags      = Text{"[tùy chọn]", "[flags]"}
	HelpFlags         = Text{"Tùy chọn:", "Flags:"}
	HelpUnknown       = Text{"không có lệnh %q", "unknown command %q"}
	HelpUnexpected    = Text{"tham số thừa %q", "unexpected argument %q"}
	HelpBinNotAbs     = Text{"--bin %q không phải đường dẫn tuyệt đối", "--bin %q is not an absolute path"}
	HelpServe         = Text{"chạy tác tử (WebSocket trên loopback và socket cục bộ)", "run the agent (WebSocket on loopback and the local socket)"}
	HelpHost          = Text{"máy chủ native messaging của tiện ích trình duyệt (trình duyệt tự khởi động)", "the browser extension's native-messaging host (started by the browser)"}
	HelpTokens        = Text{"liệt kê mô-đun PKCS#11, token và chứng thư ký số", "list PKCS#11 modules, tokens and signing certificates"}
	HelpOrigins       = Text{"liệt kê, cho phép hoặc thu hồi các trang web được nhờ ký", "list, allow or revoke the web sites that may ask to sign"}
	HelpInstall       = Text{"đăng ký Kyso với trình duyệt và tự khởi động khi đăng nhập (--system: mọi người dùng)", "register Kyso with the browsers and start it at login (--system: all users)"}
	HelpUninstall     = Text{"gỡ những gì kyso install đã ghi và dừng tác tử (cấu hình và các trang đã cho phép vẫn giữ)", "remove what kyso install wrote and stop the agent (your config and approvals stay)"}
	HelpStatus        = Text{"tác tử có chạy không; cổng, socket, mô-đun và token", "is the agent running; port, socket, modules and tokens"}
	HelpModules       = Text{"mô-đun PKCS#11 đã làm Kyso dừng đột ngột; 'modules enable ĐƯỜNG_DẪN' cho dùng lại", "PKCS#11 modules that crashed Kyso; 'modules enable PATH' tries one again"}
	HelpDoctor        = Text{"kiểm tra mọi thứ có thể hỏng, và chỉ cách sửa", "check everything that can go wrong, and say how to fix it"}
	HelpVersion       = Text{"in phiên bản (MAJOR.MINOR.PATCH)", "print the version (MAJOR.MINOR.PATCH)"}
	ServeSynopsis     = Text{"[--config TỆP]", "[--config FILE]"}
	ServeMore         = Text{"Chạy cho tới khi bị dừng (Ctrl+C, tín hiệu dừng, hoặc kyso uninstall). Lúc đăng nhập, hệ điều hành tự chạy lệnh này.", "Runs until stopped (Ctrl+C, a stop signal, or kyso uninstall). The login start runs it."}
	HostSynopsis      = Text{"chrome-extension://ID/ | TỆP_KHAI_BÁO.json %s", "chrome-extension://ID/ | MANIFEST.json %s"}
	HostMore          = Text{"Trình duyệt chạy lệnh này cho tiện ích Kyso; nó trao đổi native messaging qua stdin/stdout. Không cần chạy bằng tay.", "The browser starts this for the Kyso extension; it speaks native messaging on stdin/stdout. Never run it by hand."}
	TokensSynopsis    = Text{"[--config TỆP] [--module ĐƯỜNG_DẪN]...", "[--config FILE] [--module PATH]..."}
	OriginsSynopsis   = Text{"list | allow NGUỒN | revoke NGUỒN [--config TỆP]", "list | allow ORIGIN | revoke ORIGIN [--config FILE]"}
	OriginsMore       = Text{"list: các trang được phép và nguồn của chúng; allow NGUỒN: luôn cho phép (như \"Luôn cho phép\" trong hộp thoại); revoke NGUỒN: bỏ một \"luôn cho phép\".\nNGUỒN viết như trình duyệt gửi: https://máy[:cổng], ví dụ https://dichvucong.gov.vn. Thay đổi có hiệu lực ngay, không cần khởi động lại Kyso.", "list: the allowed sites and where each comes from; allow ORIGIN: always allow (as \"Always allow\" in the dialog); revoke ORIGIN: forget an \"always allow\".\nORIGIN is written as the browser sends it: https://host[:port], e.g. https://dichvucong.gov.vn. Changes apply at once, without restarting Kyso."}
	InstallMore       = Text{"Với --system, chương trình và mọi thư mục chứa nó phải thuộc quản trị viên và chỉ quản trị viên được ghi; nếu không, Kyso từ chối cài.", "With --system the program and every folder above it must belong to administrators and be writable by them only; otherwise Kyso refuses to install."}
	StatusMore        = Text{"Mã thoát 3 khi tác tử không chạy.", "Exit status 3 when the agent is not running."}
	ModulesSynopsis   = Text{"[list | enable ĐƯỜNG_DẪN]", "[list | enable PATH]"}
	DoctorSynopsis    = Text{"[--json] [--config TỆP]", "[--json] [--config FILE]"}
	DoctorMore        = Text{"Mã thoát 1 khi có lỗi cần sửa. --json in kết quả cho script (lược đồ trong docs/cli.md).", "Exit status 1 when something needs fixing. --json prints the findings for scripts (schema in docs/cli.md)."}
	ArgFile           = Text{"TỆP", "FILE"}
	ArgPath           = Text{"ĐƯỜNG_DẪN", "PATH"}
	ArgProgram        = Text{"CHƯƠNG_TRÌNH", "PROGRAM"}
	FlagConfig        = Text{"tệp cấu hình của người dùng (mặc định: kyso/config.json trong thư mục cấu hình của người dùng)", "the user's config file (default: kyso/config.json in the user's config dir)"}
	FlagSystem        = Text{"cho mọi người dùng của máy này (cần quyền root / quản trị viên)", "for all users of this computer (needs root / administrator)"}
	FlagBin           = Text{"chương trình kyso mà trình duyệt và lần khởi động khi đăng nhập chạy (mặc định: chương trình này)", "the kyso program browsers and the login start run (default: this program)"}
	FlagManifestsOnly = Text{"chỉ ghi lại các tệp khai báo (manifest) đã cài cho trình duyệt với mã tiện ích hiện tại (sau khi đổi extensionIds trong chính sách hệ thống)", "only rewrite the installed browser manifests with the extension ids of now (after changing the system policy's extensionIds)"}
	FlagModule        = Text{"một mô-đun PKCS#11 thử trước tiên (lặp lại được)", "a PKCS#11 module to try first (repeatable)"}
	FlagJSON          = Text{"in kết quả dạng JSON, cho script", "print the result as JSON, for scripts"}
	FlagReenable      = Text{"cho phép nạp lại một mô-đun đã làm Kyso dừng đột ngột (như kyso modules enable)", "allow a module that crashed Kyso to load again (as kyso modules enable)"}
	// OriginsAllowed: %s = origin, %s = file; OriginsRevoked: %s = origin.
	OriginsAllowed = Text{"Đã cho phép: %s (%s)", "Allowed: %s (%s)"}
	OriginsRevoked = Text{"Đã thu hồi: %s", "Revoked: %s"}

	// kyso status. StatusAgent: %s = StatusRunning or StatusNotRunning.
	// StatusPort: %d = port, %s = StatusPort*. StatusLocalSocket: %s = path.
	// StatusInstalled: %s = StatusForUser/ForAll, %s = program, %s = version.
	// StatusRecord: %s = StatusForUser/ForAll, %v = error. StatusPolicy: %s,
	// %s = paths. StatusStatsErr: %v = error. StatusGoroutines: %d, then heap
	// and RSS (%s, "1.0 MiB"). StatusConnections: %d WebSocket, %d local socket.
	StatusAgent       = Text{"Tác tử: %s", "Agent: %s"}
	StatusRunning     = Text{"đang chạy", "running"}
	StatusNotRunning  = Text{"không chạy", "not running"}
	StatusPort        = Text{"WebSocket: ws://127.0.0.1:%d/v1 (%s)", "WebSocket: ws://127.0.0.1:%d/v1 (%s)"}
	StatusPortFree    = Text{"trống", "free"}
	StatusPortKyso    = Text{"Kyso đang nghe", "Kyso listening"}
	StatusPortOther   = Text{"bị chương trình khác chiếm", "taken by another program"}
	StatusLocalSocket = Text{"Socket cục bộ: %s", "Local socket: %s"}
	StatusForUser     = Text{"cho người dùng này", "for this user"}
	StatusForAll      = Text{"cho mọi người dùng", "for all users"}
	StatusInstalled   = Text{"Đã cài %s: %s (%s)", "Installed %s: %s (%s)"}
	StatusRecord      = Text{"Bản ghi cài đặt %s: %v", "Install record %s: %v"}
	StatusPolicy      = Text{"Chính sách: %s, %s", "Policy: %s, %s"}
	StatusModules     = Text{"Mô-đun PKCS#11:", "PKCS#11 modules:"}
	StatusNoModules   = Text{"(không tìm thấy)", "(none found)"}
	StatusTokens      = Text{"Token:", "Tokens:"}
	StatusNoTokens    = Text{"(không có)", "(none)"}
	StatusStatsErr    = Text{"không đọc được số liệu của tác tử: %v", "cannot read the agent's figures: %v"}
	StatusRSSUnknown  = Text{"không rõ", "unknown"}
	StatusGoroutines  = Text{"Goroutine: %d, heap %s, RSS %s", "Goroutines: %d, heap %s, RSS %s"}
	StatusConnections = Text{"Kết nối: WebSocket %d, socket cục bộ %d", "Connections: WebSocket %d, local socket %d"}

	// kyso tokens: labels; the layout is in cmd/kyso/tokens.go.
	TokensModules   = Text{"Mô-đun PKCS#11:", "PKCS#11 modules:"}
	TokensLoaded    = Text{"đã nạp", "loaded"}
	TokensFailed    = Text{"lỗi", "failed"}
	TokensNoToken   = Text{"Không có token nào được cắm.", "No token is plugged in."}
	TokensToken     = Text{"Token", "Token"}
	TokensSerial    = Text{"số sê-ri", "serial"}
	TokensPIN       = Text{"PIN", "PIN"}
	TokensNoCert    = Text{"(không có chứng thư ký số)", "(no signing certificate)"}
	TokensSubject   = Text{"Chủ thể", "Subject"}
	TokensIssuer    = Text{"Nhà cung cấp", "Issuer"}
	TokensValid     = Text{"Hiệu lực", "Valid"}
	TokensExpired   = Text{"ĐÃ HẾT HẠN", "EXPIRED"}
	TokensNotYet    = Text{"CHƯA CÓ HIỆU LỰC", "NOT YET VALID"}
	TokensKey       = Text{"Khóa", "Key"}
	TokensCertID    = Text{"certificateId", "certificateId"}
	TokensReadErr   = Text{"không đọc được", "cannot read it"}
	TokensPINOK     = Text{"bình thường", "ok"}
	TokensPINLow    = Text{"đã nhập sai", "a wrong PIN was entered"}
	TokensPINFinal  = Text{"còn 1 lần thử", "one try left"}
	TokensPINLocked = Text{"ĐÃ KHÓA", "LOCKED"}

	// kyso modules. ModulesNotDisabled, ModulesEnabled, ModulesDisabledFix:
	// %s = module path. ModulesDisabled: %s = path, %d = crashes, %s = call,
	// %s = ", date" or "". ModulesCrashedOnce: %s = path, %s = call,
	// %s = ", date" or "".
	ModulesBadUsage    = Text{"cách dùng: kyso modules [enable ĐƯỜNG_DẪN]", "usage: kyso modules [enable PATH]"}
	ModulesNoJournal   = Text{"không mở được nhật ký sự cố", "cannot open the crash journal"}
	ModulesNotDisabled = Text{"mô-đun %s không bị tắt (nhật ký sự cố không ghi gì về nó)", "module %s is not disabled (the crash journal has nothing on it)"}
	ModulesEnabled     = Text{"Đã bật lại %s: Kyso sẽ nạp nó ở yêu cầu tiếp theo. Nếu nó lại làm Kyso dừng hai lần liên tiếp, nó sẽ bị tắt lần nữa.", "Re-enabled %s: Kyso loads it at the next request. If it crashes Kyso twice in a row again, it is disabled again."}
	ModulesNone        = Text{"Không có mô-đun PKCS#11 nào làm Kyso dừng đột ngột.", "No PKCS#11 module has crashed Kyso."}
	ModulesDisabled    = Text{"Mô-đun PKCS#11 %s đã làm Kyso dừng đột ngột %d lần liên tiếp (lần cuối trong %s%s) nên đã bị TẮT: token dùng mô-đun này không ký được.", "PKCS#11 module %s crashed Kyso %d times in a row (last in %s%s) and is DISABLED: tokens that need it cannot sign."}
	ModulesDisabledFix = Text{"Cập nhật trình điều khiển token của nhà cung cấp, rồi chạy: kyso modules enable %s", "Update the token vendor's driver, then run: kyso modules enable %s"}
	ModulesCrashedOnce = Text{"Mô-đun PKCS#11 %s đã làm Kyso dừng đột ngột một lần (trong %s%s); nếu lặp lại lần nữa, nó sẽ bị tắt. kyso doctor không nạp nó.", "PKCS#11 module %s crashed Kyso once (in %s%s); one more time and it is disabled. kyso doctor does not load it."}

	// kyso doctor: its verdict, and the findings of installer/doctor.go
	// (Doctor…). ManifestOK: %s = browser, %s = file. ManifestMissing:
	// %s = browser, %s = host name, %s = places looked in. The Manifest*
	// faults follow "browser: file: "; their %s is the error, extension or
	// path. ManifestOther: %s = browser, file, program named, this program;
	// ManifestOtherFix: %s = this program. SettingsBad, ModuleFailed,
	// NoTokenErr: %s = error. ModuleOK: %s = source, %s = path.
	// TokenOK: %s = label, manufacturer, model, serial.
	// PortTaken, AgentOK: %d = port. PortTakenFix, AgentDownFix: %s = command.
	DoctorFailed             = Text{"có vấn đề cần sửa (xem ở trên)", "something needs fixing (see above)"}
	DoctorOK                 = Text{"Mọi thứ đều ổn.", "Everything looks fine."}
	DoctorManifestOK         = Text{"%s: đã đăng ký (%s)", "%s: registered (%s)"}
	DoctorManifestMissing    = Text{"%s: chưa có tệp khai báo native messaging %s (không thấy ở %s); tiện ích Kyso không gọi được Kyso.", "%s: no native-messaging manifest for %s (looked in %s); the Kyso extension cannot reach Kyso."}
	DoctorManifestMissingFix = Text{"Chạy: kyso install (hoặc với quyền quản trị: kyso install --system)", "Run: kyso install (or, as administrator: kyso install --system)"}
	DoctorManifestReinstall  = Text{"Chạy lại: kyso install (hoặc kyso install --system nếu tệp nằm trong thư mục hệ thống)", "Run again: kyso install (or kyso install --system when the file is in a system folder)"}
	DoctorManifestUnreadable = Text{"không đọc được: %s", "cannot be read: %s"}
	DoctorManifestNotJSON    = Text{"không phải JSON hợp lệ: %s", "is not valid JSON: %s"}
	DoctorManifestWrongName  = Text{"sai tên máy chủ hoặc kiểu", "wrong host name or type"}
	DoctorManifestNotAllowed = Text{"không cho phép tiện ích %s", "does not allow the extension %s"}
	DoctorManifestRelative   = Text{"đường dẫn chương trình không tuyệt đối: %s", "the program path is not absolute: %s"}
	DoctorManifestNoProgram  = Text{"trỏ tới chương trình không tồn tại: %s", "points at a program that does not exist: %s"}
	DoctorManifestOther      = Text{"%s: %s trỏ tới %s, không phải chương trình đang chạy (%s)", "%s: %s points at %s, not at this program (%s)"}
	DoctorManifestOtherFix   = Text{"Nếu muốn dùng chương trình này, chạy: %s install", "To use this program instead, run: %s install"}
	DoctorAutostartOK        = Text{"Tự khởi động khi đăng nhập: đã bật", "Start at login: enabled"}
	DoctorAutostartMissing   = Text{"Kyso chưa được đặt tự khởi động khi đăng nhập", "Kyso is not set to start at login"}
	DoctorAutostartFix       = Text{"Chạy: kyso install", "Run: kyso install"}
	DoctorSettingsOK         = Text{"Chính sách và cấu hình: hợp lệ", "Policy and config: valid"}
	DoctorSettingsBad        = Text{"Tệp chính sách/cấu hình lỗi, Kyso từ chối mọi trang cho tới khi sửa: %s", "A policy/config file is invalid; Kyso denies every page until it is fixed: %s"}
	DoctorSettingsBadFix     = Text{"Sửa tệp và dòng nêu trên (JSON hợp lệ, khóa đúng tên), hoặc xóa tệp cấu hình của bạn", "Correct the file and line named above (valid JSON, known keys), or remove your config file"}
	DoctorModuleOK           = Text{"Mô-đun PKCS#11 (%s): %s", "PKCS#11 module (%s): %s"}
	DoctorModuleFailed       = Text{"Mô-đun PKCS#11 không nạp được: %s", "PKCS#11 module did not load: %s"}
	DoctorNoModule           = Text{"Không tìm thấy mô-đun PKCS#11 nào (trình điều khiển token)", "No PKCS#11 module (token driver) found"}
	DoctorNoModuleFix        = Text{"Cài trình điều khiển của nhà cung cấp token, hoặc thêm đường dẫn tệp .so/.dll/.dylib vào \"modules\" trong config.json", "Install your token vendor's driver, or add the path of its .so/.dll/.dylib under \"modules\" in config.json"}
	DoctorNoToken            = Text{"Không thấy token nào (không có token)", "No token seen (none present)"}
	DoctorNoTokenErr         = Text{"Không thấy token nào (%s)", "No token seen (%s)"}
	DoctorNoTokenFix         = Text{"Cắm token USB vào máy rồi chạy lại kyso doctor", "Plug in your USB token and run kyso doctor again"}
	DoctorTokenOK            = Text{"Token: %s (%s %s, số sê-ri %s)", "Token: %s (%s %s, serial %s)"}
	DoctorPortTaken          = Text{"Cổng %d đang bị một chương trình khác chiếm; trang web không kết nối được Kyso qua WebSocket", "Port %d is taken by another program; pages cannot reach Kyso over WebSocket"}
	DoctorPortTakenFix       = Text{"Tìm và dừng chương trình đó: %s", "Find and stop that program: %s"}
	DoctorAgentOK            = Text{"Tác tử Kyso đang chạy (cổng %d)", "The Kyso agent is running (port %d)"}
	DoctorAgentDown          = Text{"Tác tử Kyso không chạy (trang web chỉ dùng được Kyso qua tiện ích)", "The Kyso agent is not running (pages can use Kyso only through the extension)"}
	DoctorAgentDownFix       = Text{"Khởi động: %s", "Start it: %s"}
	DoctorLNA                = Text{"Chrome/Edge hỏi người dùng một lần cho mỗi trang trước khi trang được kết nối tới 127.0.0.1 (quyền \"truy cập mạng cục bộ\"); tiện ích Kyso không cần quyền này", "Chrome/Edge ask once per site before a public page may reach 127.0.0.1 (\"local network access\"); the Kyso extension path does not need it"}
	DoctorLNAFix             = Text{"Quản trị viên có thể cho phép trước bằng chính sách LocalNetworkAccessAllowedForUrls (xem docs/admin.md)", "Administrators can pre-allow sites with the LocalNetworkAccessAllowedForUrls policy (see docs/admin.md)"}
	// DoctorDialog…: can a dialog be shown here (installer.CheckDialog).
	// DoctorDialogNoSession: %s = the session's name; DoctorDialogOther:
	// %s = the error.
	DoctorDialogOK           = Text{"Hộp thoại xin phép và nhập PIN hiển thị được", "The consent and PIN dialogs can be shown"}
	DoctorDialogNoZenity     = Text{"Không tìm thấy chương trình zenity: Kyso không hiện được hộp thoại xin phép và nhập PIN", "The zenity program is missing: Kyso cannot show its consent and PIN dialogs"}
	DoctorDialogNoZenityFix  = Text{"Cài zenity (Debian/Ubuntu: sudo apt install zenity; Fedora: sudo dnf install zenity)", "Install zenity (Debian/Ubuntu: sudo apt install zenity; Fedora: sudo dnf install zenity)"}
	DoctorDialogNoDisplay    = Text{"Không có màn hình (DISPLAY hoặc WAYLAND_DISPLAY trống): ở đây Kyso không hiện được hộp thoại", "No display (DISPLAY and WAYLAND_DISPLAY are empty): Kyso cannot show dialogs from here"}
	DoctorDialogNoDisplayFix = Text{"Chạy kyso trong phiên màn hình của bạn; nếu systemd --user chạy tác tử: systemctl --user import-environment DISPLAY WAYLAND_DISPLAY XAUTHORITY", "Run kyso in your desktop session; when systemd --user runs the agent: systemctl --user import-environment DISPLAY WAYLAND_DISPLAY XAUTHORITY"}
	DoctorDialogNoSession    = Text{"Tiến trình này không ở phiên đăng nhập có màn hình (%s): Kyso không hiện được hộp thoại", "This process is not in a desktop login session (%s): Kyso cannot show dialogs"}
	DoctorDialogNoSessionFix = Text{"Chạy kyso từ phiên đăng nhập của bạn (không phải dịch vụ, ssh hay tác vụ nền)", "Run kyso from your login session (not a service, ssh or a background task)"}
	DoctorDialogOther        = Text{"Không kiểm tra được việc hiện hộp thoại: %s", "Could not check that dialogs can be shown: %s"}
	DoctorDialogOtherFix     = Text{"Chạy kyso từ phiên đăng nhập của bạn", "Run kyso from your login session"}
	// DoctorPortHeldBy: %d = port, %s = program path, %d = process id,
	// %s = user; DoctorPortHeldByUnknown: the same without the path.
	DoctorPortHeldBy        = Text{"Cổng %d đang bị chương trình khác Kyso chiếm: %s (tiến trình %d, người dùng %s); trang web có thể đang nói chuyện với chương trình đó thay vì Kyso", "Port %d is held by a program that is not Kyso: %s (process %d, user %s); pages may be talking to it instead of Kyso"}
	DoctorPortHeldByUnknown = Text{"Cổng %d đang bị một chương trình khác Kyso chiếm (tiến trình %d, người dùng %s; không đọc được đường dẫn chương trình); trang web có thể đang nói chuyện với chương trình đó thay vì Kyso", "Port %d is held by a program that is not Kyso (process %d, user %s; its path cannot be read); pages may be talking to it instead of Kyso"}
)

// DocDetail is the label shown before a document.Detail's value in the
// signing dialogs: Detail.Label is its key (e.g. "invoiceNumber"). A key
// not in the table is shown as it is, so a format can add lines before it
// adds their words here.
func DocDetail(key string) Text {
	if t, ok := docDetails[key]; ok {
		return t
	}
	return Text{key, key}
}

var docDetails = map[string]Text{
	"invoiceNumber": {"Số hóa đơn", "Invoice number"},
	"invoiceSeries": {"Ký hiệu", "Series"},
	"invoiceDate":   {"Ngày lập", "Issued"},
	"seller":        {"Người bán", "Seller"},
	"buyer":         {"Người mua", "Buyer"},
	"total":         {"Tổng tiền", "Total"},
	"taxCode":       {"Mã số thuế", "Tax code"},
	"taxPeriod":     {"Kỳ tính thuế", "Tax period"},
	"form":          {"Mẫu", "Form"},
}

// The system policy refused for who may change it (engine.UntrustedPolicy).
// Each: %s = the policy (a file, or the Group Policy key), %s = the file or
// folder at fault, then what is wrong with it. And a key only the system
// policy may set, found in the user's config: %s = the file and line
// ("config.json:3"), %s = the key.
var (
	DoctorPolicyNotOwned   = Text{"Không dùng chính sách hệ thống %s: %s thuộc về %s, không phải quản trị viên (%s), nên có thể do người khác đặt vào. Kyso từ chối mọi trang web cho tới khi sửa xong.", "The system policy %s is not used: %s belongs to %s, not to the administrators (%s), so someone else may have put it there. Kyso denies every website until this is fixed."}
	DoctorPolicyWritable   = Text{"Không dùng chính sách hệ thống %s: %s có thể bị %s sửa hoặc thay (%s). Kyso từ chối mọi trang web cho tới khi sửa xong.", "The system policy %s is not used: %s can be changed or replaced by %s (%s). Kyso denies every website until this is fixed."}
	DoctorPolicyNotRegular = Text{"Không dùng chính sách hệ thống %s: %s không phải là một tệp thông thường. Kyso từ chối mọi trang web cho tới khi sửa xong.", "The system policy %s is not used: %s is not a regular file. Kyso denies every website until this is fixed."}
	DoctorPolicyUnchecked  = Text{"Không dùng chính sách hệ thống %s: không kiểm tra được ai có quyền sửa %s (%s). Kyso từ chối mọi trang web cho tới khi sửa xong.", "The system policy %s is not used: cannot tell who may change %s (%s). Kyso denies every website until this is fixed."}
	DoctorPolicyTrustFix   = Text{"Chỉ quản trị viên được sở hữu và ghi tệp đó cùng mọi thư mục chứa nó. Linux/macOS: sudo chown root TỆP THƯ-MỤC; sudo chmod go-w TỆP THƯ-MỤC. Windows: cài lại Kyso (bộ cài MSI đặt quyền cho C:\\ProgramData\\Kyso) hoặc sửa quyền bằng icacls. Nếu tệp không phải do quản trị viên đặt, hãy xóa nó. Xem docs/admin.md.", "Only administrators may own and write that file and every folder above it. Linux/macOS: sudo chown root FILE FOLDER; sudo chmod go-w FILE FOLDER. Windows: reinstall Kyso (the MSI sets the permissions of C:\\ProgramData\\Kyso) or fix them with icacls. If your administrator did not put the file there, delete it. See docs/admin.md."}
	DoctorOtherUsers       = Text{"người dùng khác", "other users"}
	DoctorGroup            = Text{"nhóm %s", "group %s"}
	DoctorSystemOnlyKey    = Text{"%s đặt \"%s\", khóa mà chỉ chính sách hệ thống của quản trị viên được đặt: khóa này bị bỏ qua", "%s sets \"%s\", which only the administrator's system policy may set: it is ignored"}
	DoctorSystemOnlyKeyFix = Text{"Xóa khóa đó khỏi tệp; nếu cần, nhờ quản trị viên đặt nó trong chính sách hệ thống (docs/policy.md)", "Remove it from the file; if it is needed, ask your administrator to set it in the system policy (docs/policy.md)"}
)

// kyso history: what the person signed, for which website (internal/audit).
// Its help follows the command line's style (Help…, …Synopsis, …More,
// Flag…). HistoryBadLimit: %d = the value; HistorySkipped: %d = lines;
// HistoryDocument: %s = name, %s = SHA-256; HistoryItemsMore: %d = items
// not shown.
var (
	HelpHistory           = Text{"những gì bạn đã ký, cho trang web nào (mới nhất trước)", "what you signed, and for which website (newest first)"}
	HistorySynopsis       = Text{"[--limit N] [--json]", "[--limit N] [--json]"}
	HistoryMore           = Text{"Những gì bạn đã ký và cho trang web nào, mới nhất trước, theo nhật ký ký số (audit.log). --json in các bản ghi đầy đủ (cho quản trị viên; docs/agent.md).", "What you signed and for which website, newest first, from the signing record (audit.log). --json prints the full records (for administrators; docs/agent.md)."}
	ArgN                  = Text{"N", "N"}
	FlagLimit             = Text{"chỉ hiện N bản ghi mới nhất (0: tất cả; mặc định 50)", "show only the N newest records (0: all; default 50)"}
	HistoryBadLimit       = Text{"--limit %d: phải là 0 hoặc lớn hơn", "--limit %d: must be 0 or more"}
	HistoryEmpty          = Text{"Nhật ký ký số chưa có bản ghi nào.", "The signing record holds nothing yet."}
	HistorySkipped        = Text{"(đã bỏ qua %d dòng không đọc được)", "(%d unreadable lines skipped)"}
	HistoryGetCertificate = Text{"Gửi chứng thư số cho trang web", "Give your certificate to the website"}
	HistoryOK             = Text{"thành công", "done"}
	HistoryDocument       = Text{"Tài liệu %s — SHA-256 %s", "Document %s — SHA-256 %s"}
	HistoryItemsMore      = Text{"… và %d mục nữa (xem đủ: kyso history --json)", "… and %d more (all of them: kyso history --json)"}
)
