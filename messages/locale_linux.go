package messages

// userLocales: on Linux the session's environment is the person's choice
// (the desktop exports LANG to every program, systemd --user included).
func userLocales() []string { return envLocales() }
