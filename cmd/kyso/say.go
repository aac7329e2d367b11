package main

import "kyso.vn/kyso/messages"

// say is the command line's text m in the user's language (messages.Lang:
// Vietnamese first), from the one message table.
func say(m messages.Text, args ...any) string { return m.In(messages.Lang(), args...) }
