package logging

// Truncate keeps a string from outside (an origin, a Host header, an op, an
// id) short enough for a log line or a message: at most n characters, "…"
// marking a cut. It never splits a UTF-8 character, so the line stays valid
// text (bytes that are not UTF-8 count one each).
func Truncate(s string, n int) string {
	if len(s) <= n { // no more bytes than n: no more characters either
		return s
	}
	runes := 0
	for i := range s {
		if runes == n {
			return s[:i] + "…"
		}
		runes++
	}
	return s
}
