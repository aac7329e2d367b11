package protocol

// MaxAnswer: a signed PDF or XML travels back in one response (DESIGN.md,
// "Document operations"), which may be larger than its request.
const (
	// MaxAnswer bounds one response on every transport: a signed 64 MiB
	// document in base64 with its JSON. The extension's background joins
	// native-messaging parts up to 96 MiB (docs/protocol.md, "Large
	// answers"), so no transport may send more.
	MaxAnswer = 96 << 20
)
