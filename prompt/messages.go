package prompt

import "fmt"

// Every user-facing string of Kyso lives in this table, Vietnamese first with
// an English fallback, so that a translation is one place to check. The
// engine reuses it for the "message" of error responses: T(lang, "err."+code);
// the agent ("agent.*") and the host ("host.*") for the errors they answer
// before the engine sees a request; the command line ("cli.<command>.*",
// through say() in cmd/kyso and the doctor's findings in installer).
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

		// Command line (cmd/kyso), "cli.<command>.<name>". Layout (indent,
		// ✔/✘ marks, newlines) stays in the code; the words live here.
		// cli.install.warning: %s = the warning.
		"cli.install.done":           "Đã cài Kyso. Kiểm tra bằng: kyso doctor",
		"cli.install.needRoot":       "Cài cho mọi người dùng cần quyền root/quản trị viên.",
		"cli.install.warning":        "cảnh báo: %s",
		"cli.uninstall.done":         "Đã gỡ Kyso (cấu hình và các trang bạn đã cho phép vẫn được giữ).",
		"cli.uninstall.notInstalled": "Kyso chưa được cài cho phạm vi này; không có gì để gỡ.",

		// kyso status. agent: %s = status.running or status.notRunning.
		// port: %d = port, %s = status.port*. localSocket: %s = path.
		// installed: %s = status.forUser/forAll, %s = program, %s = version.
		// record: %s = status.forUser/forAll, %v = error. policy: %s, %s = paths.
		// statsErr: %v = error. goroutines: %d, then heap and RSS (%s, "1.0 MiB").
		// connections: %d WebSocket, %d local socket.
		"cli.status.agent":       "Tác tử: %s",
		"cli.status.running":     "đang chạy",
		"cli.status.notRunning":  "không chạy",
		"cli.status.port":        "WebSocket: ws://127.0.0.1:%d/v1 (%s)",
		"cli.status.portFree":    "trống",
		"cli.status.portKyso":    "Kyso đang nghe",
		"cli.status.portOther":   "bị chương trình khác chiếm",
		"cli.status.localSocket": "Socket cục bộ: %s",
		"cli.status.forUser":     "cho người dùng này",
		"cli.status.forAll":      "cho mọi người dùng",
		"cli.status.installed":   "Đã cài %s: %s (%s)",
		"cli.status.record":      "Bản ghi cài đặt %s: %v",
		"cli.status.policy":      "Chính sách: %s, %s",
		"cli.status.modules":     "Mô-đun PKCS#11:",
		"cli.status.noModules":   "(không tìm thấy)",
		"cli.status.tokens":      "Token:",
		"cli.status.noTokens":    "(không có)",
		"cli.status.statsErr":    "không đọc được số liệu của tác tử: %v",
		"cli.status.rssUnknown":  "không rõ",
		"cli.status.goroutines":  "Goroutine: %d, heap %s, RSS %s",
		"cli.status.connections": "Kết nối: WebSocket %d, socket cục bộ %d",

		// kyso tokens: labels; the layout is in cmd/kyso/tokens.go.
		"cli.tokens.modules":   "Mô-đun PKCS#11:",
		"cli.tokens.loaded":    "đã nạp",
		"cli.tokens.failed":    "lỗi",
		"cli.tokens.noToken":   "Không có token nào được cắm.",
		"cli.tokens.token":     "Token",
		"cli.tokens.serial":    "số sê-ri",
		"cli.tokens.pin":       "PIN",
		"cli.tokens.noCert":    "(không có chứng thư ký số)",
		"cli.tokens.subject":   "Chủ thể",
		"cli.tokens.issuer":    "Nhà cung cấp",
		"cli.tokens.valid":     "Hiệu lực",
		"cli.tokens.expired":   "ĐÃ HẾT HẠN",
		"cli.tokens.notYet":    "CHƯA CÓ HIỆU LỰC",
		"cli.tokens.key":       "Khóa",
		"cli.tokens.certID":    "certificateId",
		"cli.tokens.readErr":   "không đọc được",
		"cli.tokens.pinOK":     "bình thường",
		"cli.tokens.pinLow":    "đã nhập sai",
		"cli.tokens.pinFinal":  "còn 1 lần thử",
		"cli.tokens.pinLocked": "ĐÃ KHÓA",

		// kyso modules. notDisabled, enabled, disabledFix: %s = module path.
		// disabled: %s = path, %d = crashes, %s = call, %s = ", date" or "".
		// crashedOnce: %s = path, %s = call, %s = ", date" or "".
		"cli.modules.badUsage":    "cách dùng: kyso modules [enable ĐƯỜNG_DẪN]",
		"cli.modules.noJournal":   "không mở được nhật ký sự cố",
		"cli.modules.notDisabled": "mô-đun %s không bị tắt (nhật ký sự cố không ghi gì về nó)",
		"cli.modules.enabled":     "Đã bật lại %s: Kyso sẽ nạp nó ở yêu cầu tiếp theo. Nếu nó lại làm Kyso dừng hai lần liên tiếp, nó sẽ bị tắt lần nữa.",
		"cli.modules.none":        "Không có mô-đun PKCS#11 nào làm Kyso dừng đột ngột.",
		"cli.modules.disabled":    "Mô-đun PKCS#11 %s đã làm Kyso dừng đột ngột %d lần liên tiếp (lần cuối trong %s%s) nên đã bị TẮT: token dùng mô-đun này không ký được.",
		"cli.modules.disabledFix": "Cập nhật trình điều khiển token của nhà cung cấp, rồi chạy: kyso modules enable %s",
		"cli.modules.crashedOnce": "Mô-đun PKCS#11 %s đã làm Kyso dừng đột ngột một lần (trong %s%s); nếu lặp lại lần nữa, nó sẽ bị tắt. kyso doctor không nạp nó.",

		// kyso doctor: its verdict, and the findings of installer/doctor.go.
		// manifestOK: %s = browser, %s = file. manifestMissing: %s = browser,
		// %s = host name, %s = places looked in. The manifest* faults follow
		// "browser: file: "; their %s is the error, extension or path.
		// manifestOther: %s = browser, file, program named, this program;
		// manifestOtherFix: %s = this program. settingsBad, moduleFailed,
		// noTokenErr: %s = error. moduleOK: %s = source, %s = path.
		// tokenOK: %s = label, manufacturer, model, serial.
		// portTaken, agentOK: %d = port. portTakenFix, agentDownFix: %s = command.
		"cli.doctor.failed":             "có vấn đề cần sửa (xem ở trên)",
		"cli.doctor.ok":                 "Mọi thứ đều ổn.",
		"cli.doctor.manifestOK":         "%s: đã đăng ký (%s)",
		"cli.doctor.manifestMissing":    "%s: chưa có tệp khai báo native messaging %s (không thấy ở %s); tiện ích Kyso không gọi được Kyso.",
		"cli.doctor.manifestMissingFix": "Chạy: kyso install (hoặc với quyền quản trị: kyso install --system)",
		"cli.doctor.manifestReinstall":  "Chạy lại: kyso install (hoặc kyso install --system nếu tệp nằm trong thư mục hệ thống)",
		"cli.doctor.manifestUnreadable": "không đọc được: %s",
		"cli.doctor.manifestNotJSON":    "không phải JSON hợp lệ: %s",
		"cli.doctor.manifestWrongName":  "sai tên máy chủ hoặc kiểu",
		"cli.doctor.manifestNotAllowed": "không cho phép tiện ích %s",
		"cli.doctor.manifestRelative":   "đường dẫn chương trình không tuyệt đối: %s",
		"cli.doctor.manifestNoProgram":  "trỏ tới chương trình không tồn tại: %s",
		"cli.doctor.manifestOther":      "%s: %s trỏ tới %s, không phải chương trình đang chạy (%s)",
		"cli.doctor.manifestOtherFix":   "Nếu muốn dùng chương trình này, chạy: %s install",
		"cli.doctor.autostartOK":        "Tự khởi động khi đăng nhập: đã bật",
		"cli.doctor.autostartMissing":   "Kyso chưa được đặt tự khởi động khi đăng nhập",
		"cli.doctor.autostartFix":       "Chạy: kyso install",
		"cli.doctor.settingsOK":         "Chính sách và cấu hình: hợp lệ",
		"cli.doctor.settingsBad":        "Tệp chính sách/cấu hình lỗi, Kyso từ chối mọi trang cho tới khi sửa: %s",
		"cli.doctor.settingsBadFix":     "Sửa tệp và dòng nêu trên (JSON hợp lệ, khóa đúng tên), hoặc xóa tệp cấu hình của bạn",
		"cli.doctor.moduleOK":           "Mô-đun PKCS#11 (%s): %s",
		"cli.doctor.moduleFailed":       "Mô-đun PKCS#11 không nạp được: %s",
		"cli.doctor.noModule":           "Không tìm thấy mô-đun PKCS#11 nào (trình điều khiển token)",
		"cli.doctor.noModuleFix":        "Cài trình điều khiển của nhà cung cấp token, hoặc thêm đường dẫn tệp .so/.dll/.dylib vào \"modules\" trong config.json",
		"cli.doctor.noToken":            "Không thấy token nào (không có token)",
		"cli.doctor.noTokenErr":         "Không thấy token nào (%s)",
		"cli.doctor.noTokenFix":         "Cắm token USB vào máy rồi chạy lại kyso doctor",
		"cli.doctor.tokenOK":            "Token: %s (%s %s, số sê-ri %s)",
		"cli.doctor.portTaken":          "Cổng %d đang bị một chương trình khác chiếm; trang web không kết nối được Kyso qua WebSocket",
		"cli.doctor.portTakenFix":       "Tìm và dừng chương trình đó: %s",
		"cli.doctor.agentOK":            "Tác tử Kyso đang chạy (cổng %d)",
		"cli.doctor.agentDown":          "Tác tử Kyso không chạy (trang web chỉ dùng được Kyso qua tiện ích)",
		"cli.doctor.agentDownFix":       "Khởi động: %s",
		"cli.doctor.lna":                "Chrome/Edge hỏi người dùng một lần cho mỗi trang trước khi trang được kết nối tới 127.0.0.1 (quyền \"truy cập mạng cục bộ\"); tiện ích Kyso không cần quyền này",
		"cli.doctor.lnaFix":             "Quản trị viên có thể cho phép trước bằng chính sách LocalNetworkAccessAllowedForUrls (xem docs/admin.md)",

		// Command-line help and conventions (cmd/kyso/flags.go, docs/cli.md):
		// cli.cmd.<command> is the command's line in `kyso --help`, .more an
		// optional paragraph of its help; cli.flag.<flag> a flag's text.
		// help.unknown, help.unexpected, help.binNotAbs: %s. uninstall.agentStopped,
		// doctor.dialog*: no verb except dialogNoSession and dialogOther (%s).
		"cli.help.intro":                "Kyso — ký số: cho phép trang web nhờ token USB của bạn ký, khi bạn đồng ý.",
		"cli.help.usage":                "Cách dùng",
		"cli.help.commands":             "Lệnh",
		"cli.help.flags":                "Tùy chọn",
		"cli.help.more":                 "Xem hướng dẫn của một lệnh: kyso help LỆNH (hoặc kyso LỆNH --help). Phiên bản: kyso --version.",
		"cli.help.unknown":              "không có lệnh %q",
		"cli.help.unexpected":           "tham số thừa %q",
		"cli.help.binNotAbs":            "--bin %q không phải đường dẫn tuyệt đối",
		"cli.cmd.serve":                 "chạy tác tử (WebSocket trên loopback và socket cục bộ)",
		"cli.cmd.serve.more":            "Chạy cho tới khi bị dừng (Ctrl+C, tín hiệu dừng, hoặc kyso uninstall). Lúc đăng nhập, hệ điều hành tự chạy lệnh này.",
		"cli.cmd.host":                  "máy chủ native messaging của tiện ích Kyso (trình duyệt tự chạy)",
		"cli.cmd.host.more":             "Trình duyệt chạy lệnh này cho tiện ích Kyso; nó trao đổi native messaging qua stdin/stdout. Không cần chạy bằng tay.",
		"cli.cmd.tokens":                "liệt kê mô-đun PKCS#11, token và chứng thư ký số",
		"cli.cmd.origins":               "liệt kê, cho phép hoặc thu hồi các trang web được nhờ ký",
		"cli.cmd.origins.more":          "list: các trang được phép và nguồn của chúng; allow ORIGIN: luôn cho phép (như \"Luôn cho phép\" trong hộp thoại); revoke ORIGIN: bỏ một \"luôn cho phép\".\nORIGIN viết như trình duyệt gửi: https://tên-miền[:cổng], ví dụ https://dichvucong.gov.vn. Thay đổi có hiệu lực ngay, không cần khởi động lại Kyso.",
		"cli.cmd.install":               "đăng ký Kyso với các trình duyệt và cho chạy lúc đăng nhập (--system: mọi người dùng)",
		"cli.cmd.install.more":          "Với --system, chương trình và mọi thư mục chứa nó phải thuộc quản trị viên và chỉ quản trị viên được ghi; nếu không, Kyso từ chối cài.",
		"cli.cmd.uninstall":             "gỡ những gì kyso install đã ghi và dừng tác tử (cấu hình và các trang đã cho phép vẫn giữ)",
		"cli.cmd.status":                "tác tử có chạy không; cổng, socket, mô-đun và token",
		"cli.cmd.status.more":           "Mã thoát 3 khi tác tử không chạy.",
		"cli.cmd.modules":               "các mô-đun PKCS#11 đã làm Kyso dừng đột ngột; modules enable ĐƯỜNG_DẪN để nạp lại",
		"cli.cmd.doctor":                "kiểm tra mọi thứ có thể hỏng và chỉ cách sửa",
		"cli.cmd.doctor.more":           "Mã thoát 1 khi có lỗi cần sửa. --json in kết quả cho script (lược đồ trong docs/cli.md).",
		"cli.cmd.version":               "in phiên bản (MAJOR.MINOR.PATCH)",
		"cli.flag.config":               "tệp cấu hình của người dùng (mặc định: kyso/config.json trong thư mục cấu hình của người dùng)",
		"cli.flag.system":               "cho mọi người dùng máy này (cần quyền root / quản trị viên)",
		"cli.flag.bin":                  "chương trình kyso mà trình duyệt và lần chạy lúc đăng nhập dùng (mặc định: chương trình này)",
		"cli.flag.json":                 "in kết quả dạng JSON, cho script",
		"cli.flag.module":               "mô-đun PKCS#11 thử trước (lặp lại được)",
		"cli.flag.reenable":             "cho phép nạp lại một mô-đun đã làm Kyso dừng đột ngột",
		"cli.uninstall.agentStopped":    "đã dừng tác tử Kyso đang chạy",
		"cli.install.untrusted":         "Không cài cho mọi người dùng: người dùng thường có thể thay chương trình này (%s). Hãy đặt kyso vào thư mục chỉ quản trị viên được ghi (ví dụ /usr/local/bin hoặc Program Files) rồi chạy lại.",
		"cli.doctor.dialogOK":           "Hộp thoại xin phép và nhập PIN hiển thị được",
		"cli.doctor.dialogNoZenity":     "Không tìm thấy chương trình zenity: Kyso không hiện được hộp thoại xin phép và nhập PIN",
		"cli.doctor.dialogNoZenityFix":  "Cài zenity (Debian/Ubuntu: sudo apt install zenity; Fedora: sudo dnf install zenity)",
		"cli.doctor.dialogNoDisplay":    "Không có màn hình (DISPLAY hoặc WAYLAND_DISPLAY trống): ở đây Kyso không hiện được hộp thoại",
		"cli.doctor.dialogNoDisplayFix": "Chạy kyso trong phiên màn hình của bạn; nếu systemd --user chạy tác tử: systemctl --user import-environment DISPLAY WAYLAND_DISPLAY XAUTHORITY",
		"cli.doctor.dialogNoSession":    "Tiến trình này không ở phiên đăng nhập có màn hình (%s): Kyso không hiện được hộp thoại",
		"cli.doctor.dialogNoSessionFix": "Chạy kyso từ phiên đăng nhập của bạn (không phải dịch vụ, ssh hay tác vụ nền)",
		"cli.doctor.dialogOther":        "Không kiểm tra được việc hiện hộp thoại: %s",
		"cli.doctor.dialogOtherFix":     "Chạy kyso từ phiên đăng nhập của bạn",
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

		"cli.install.done":           "Kyso is installed. Check it with: kyso doctor",
		"cli.install.needRoot":       "Installing for all users needs root/administrator rights.",
		"cli.install.warning":        "warning: %s",
		"cli.uninstall.done":         "Kyso is removed (your config and approved sites are kept).",
		"cli.uninstall.notInstalled": "Kyso is not installed for this scope; nothing to remove.",

		"cli.status.agent":       "Agent: %s",
		"cli.status.running":     "running",
		"cli.status.notRunning":  "not running",
		"cli.status.port":        "WebSocket: ws://127.0.0.1:%d/v1 (%s)",
		"cli.status.portFree":    "free",
		"cli.status.portKyso":    "Kyso listening",
		"cli.status.portOther":   "taken by another program",
		"cli.status.localSocket": "Local socket: %s",
		"cli.status.forUser":     "for this user",
		"cli.status.forAll":      "for all users",
		"cli.status.installed":   "Installed %s: %s (%s)",
		"cli.status.record":      "Install record %s: %v",
		"cli.status.policy":      "Policy: %s, %s",
		"cli.status.modules":     "PKCS#11 modules:",
		"cli.status.noModules":   "(none found)",
		"cli.status.tokens":      "Tokens:",
		"cli.status.noTokens":    "(none)",
		"cli.status.statsErr":    "cannot read the agent's figures: %v",
		"cli.status.rssUnknown":  "unknown",
		"cli.status.goroutines":  "Goroutines: %d, heap %s, RSS %s",
		"cli.status.connections": "Connections: WebSocket %d, local socket %d",

		"cli.tokens.modules":   "PKCS#11 modules:",
		"cli.tokens.loaded":    "loaded",
		"cli.tokens.failed":    "failed",
		"cli.tokens.noToken":   "No token is plugged in.",
		"cli.tokens.token":     "Token",
		"cli.tokens.serial":    "serial",
		"cli.tokens.pin":       "PIN",
		"cli.tokens.noCert":    "(no signing certificate)",
		"cli.tokens.subject":   "Subject",
		"cli.tokens.issuer":    "Issuer",
		"cli.tokens.valid":     "Valid",
		"cli.tokens.expired":   "EXPIRED",
		"cli.tokens.notYet":    "NOT YET VALID",
		"cli.tokens.key":       "Key",
		"cli.tokens.certID":    "certificateId",
		"cli.tokens.readErr":   "cannot read it",
		"cli.tokens.pinOK":     "ok",
		"cli.tokens.pinLow":    "a wrong PIN was entered",
		"cli.tokens.pinFinal":  "one try left",
		"cli.tokens.pinLocked": "LOCKED",

		"cli.modules.badUsage":    "usage: kyso modules [enable PATH]",
		"cli.modules.noJournal":   "cannot open the crash journal",
		"cli.modules.notDisabled": "module %s is not disabled (the crash journal has nothing on it)",
		"cli.modules.enabled":     "Re-enabled %s: Kyso loads it at the next request. If it crashes Kyso twice in a row again, it is disabled again.",
		"cli.modules.none":        "No PKCS#11 module has crashed Kyso.",
		"cli.modules.disabled":    "PKCS#11 module %s crashed Kyso %d times in a row (last in %s%s) and is DISABLED: tokens that need it cannot sign.",
		"cli.modules.disabledFix": "Update the token vendor's driver, then run: kyso modules enable %s",
		"cli.modules.crashedOnce": "PKCS#11 module %s crashed Kyso once (in %s%s); one more time and it is disabled. kyso doctor does not load it.",

		"cli.doctor.failed":             "something needs fixing (see above)",
		"cli.doctor.ok":                 "Everything looks fine.",
		"cli.doctor.manifestOK":         "%s: registered (%s)",
		"cli.doctor.manifestMissing":    "%s: no native-messaging manifest for %s (looked in %s); the Kyso extension cannot reach Kyso.",
		"cli.doctor.manifestMissingFix": "Run: kyso install (or, as administrator: kyso install --system)",
		"cli.doctor.manifestReinstall":  "Run again: kyso install (or kyso install --system when the file is in a system folder)",
		"cli.doctor.manifestUnreadable": "cannot be read: %s",
		"cli.doctor.manifestNotJSON":    "is not valid JSON: %s",
		"cli.doctor.manifestWrongName":  "wrong host name or type",
		"cli.doctor.manifestNotAllowed": "does not allow the extension %s",
		"cli.doctor.manifestRelative":   "the program path is not absolute: %s",
		"cli.doctor.manifestNoProgram":  "points at a program that does not exist: %s",
		"cli.doctor.manifestOther":      "%s: %s points at %s, not at this program (%s)",
		"cli.doctor.manifestOtherFix":   "To use this program instead, run: %s install",
		"cli.doctor.autostartOK":        "Start at login: enabled",
		"cli.doctor.autostartMissing":   "Kyso is not set to start at login",
		"cli.doctor.autostartFix":       "Run: kyso install",
		"cli.doctor.settingsOK":         "Policy and config: valid",
		"cli.doctor.settingsBad":        "A policy/config file is invalid; Kyso denies every page until it is fixed: %s",
		"cli.doctor.settingsBadFix":     "Correct the file and line named above (valid JSON, known keys), or remove your config file",
		"cli.doctor.moduleOK":           "PKCS#11 module (%s): %s",
		"cli.doctor.moduleFailed":       "PKCS#11 module did not load: %s",
		"cli.doctor.noModule":           "No PKCS#11 module (token driver) found",
		"cli.doctor.noModuleFix":        "Install your token vendor's driver, or add the path of its .so/.dll/.dylib under \"modules\" in config.json",
		"cli.doctor.noToken":            "No token seen (none present)",
		"cli.doctor.noTokenErr":         "No token seen (%s)",
		"cli.doctor.noTokenFix":         "Plug in your USB token and run kyso doctor again",
		"cli.doctor.tokenOK":            "Token: %s (%s %s, serial %s)",
		"cli.doctor.portTaken":          "Port %d is taken by another program; pages cannot reach Kyso over WebSocket",
		"cli.doctor.portTakenFix":       "Find and stop that program: %s",
		"cli.doctor.agentOK":            "The Kyso agent is running (port %d)",
		"cli.doctor.agentDown":          "The Kyso agent is not running (pages can use Kyso only through the extension)",
		"cli.doctor.agentDownFix":       "Start it: %s",
		"cli.doctor.lna":                "Chrome/Edge ask once per site before a public page may reach 127.0.0.1 (\"local network access\"); the Kyso extension path does not need it",
		"cli.doctor.lnaFix":             "Administrators can pre-allow sites with the LocalNetworkAccessAllowedForUrls policy (see docs/admin.md)",

		// Command-line help and conventions (see the vi block).
		"cli.help.intro":                "Kyso — ký số: lets web pages ask your USB token to sign, with your consent.",
		"cli.help.usage":                "Usage",
		"cli.help.commands":             "Commands",
		"cli.help.flags":                "Flags",
		"cli.help.more":                 "A command's help: kyso help COMMAND (or kyso COMMAND --help). Version: kyso --version.",
		"cli.help.unknown":              "unknown command %q",
		"cli.help.unexpected":           "unexpected argument %q",
		"cli.help.binNotAbs":            "--bin %q is not an absolute path",
		"cli.cmd.serve":                 "run the agent (WebSocket on loopback and the local socket)",
		"cli.cmd.serve.more":            "Runs until stopped (Ctrl+C, a stop signal, or kyso uninstall). The login start runs it.",
		"cli.cmd.host":                  "the Kyso extension's native-messaging host (the browser starts it)",
		"cli.cmd.host.more":             "The browser starts this for the Kyso extension; it speaks native messaging on stdin/stdout. Never run it by hand.",
		"cli.cmd.tokens":                "list PKCS#11 modules, tokens and signing certificates",
		"cli.cmd.origins":               "list, allow or revoke the web sites that may ask to sign",
		"cli.cmd.origins.more":          "list: the allowed sites and where each comes from; allow ORIGIN: always allow (as \"Always allow\" in the dialog); revoke ORIGIN: forget an \"always allow\".\nORIGIN is written as the browser sends it: https://host[:port], e.g. https://dichvucong.gov.vn. Changes apply at once, without restarting Kyso.",
		"cli.cmd.install":               "register Kyso with the browsers and start it at login (--system: all users)",
		"cli.cmd.install.more":          "With --system the program and every folder above it must belong to administrators and be writable by them only; otherwise Kyso refuses to install.",
		"cli.cmd.uninstall":             "remove what kyso install wrote and stop the agent (your config and approvals stay)",
		"cli.cmd.status":                "is the agent running; port, socket, modules and tokens",
		"cli.cmd.status.more":           "Exit status 3 when the agent is not running.",
		"cli.cmd.modules":               "PKCS#11 modules that crashed Kyso; modules enable PATH loads one again",
		"cli.cmd.doctor":                "check everything that can go wrong, and say how to fix it",
		"cli.cmd.doctor.more":           "Exit status 1 when something needs fixing. --json prints the findings for scripts (schema in docs/cli.md).",
		"cli.cmd.version":               "print the version (MAJOR.MINOR.PATCH)",
		"cli.flag.config":               "the user config file (default: kyso/config.json in the user config folder)",
		"cli.flag.system":               "for all users of this computer (needs root / administrator)",
		"cli.flag.bin":                  "the kyso program browsers and the login start run (default: this program)",
		"cli.flag.json":                 "print the result as JSON, for scripts",
		"cli.flag.module":               "a PKCS#11 module to try first (repeatable)",
		"cli.flag.reenable":             "allow a module that crashed Kyso to load again",
		"cli.uninstall.agentStopped":    "stopped the running Kyso agent",
		"cli.install.untrusted":         "Not installing for all users: ordinary users could replace this program (%s). Put kyso in a folder only administrators can write (e.g. /usr/local/bin or Program Files) and run it again.",
		"cli.doctor.dialogOK":           "The consent and PIN dialogs can be shown",
		"cli.doctor.dialogNoZenity":     "The zenity program is missing: Kyso cannot show its consent and PIN dialogs",
		"cli.doctor.dialogNoZenityFix":  "Install zenity (Debian/Ubuntu: sudo apt install zenity; Fedora: sudo dnf install zenity)",
		"cli.doctor.dialogNoDisplay":    "No display (DISPLAY and WAYLAND_DISPLAY are empty): Kyso cannot show dialogs from here",
		"cli.doctor.dialogNoDisplayFix": "Run kyso in your desktop session; when systemd --user runs the agent: systemctl --user import-environment DISPLAY WAYLAND_DISPLAY XAUTHORITY",
		"cli.doctor.dialogNoSession":    "This process is not in a desktop login session (%s): Kyso cannot show dialogs",
		"cli.doctor.dialogNoSessionFix": "Run kyso from your login session (not a service, ssh or a background task)",
		"cli.doctor.dialogOther":        "Could not check that dialogs can be shown: %s",
		"cli.doctor.dialogOtherFix":     "Run kyso from your login session",
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
