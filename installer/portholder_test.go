package installer

import (
	"kyso.vn/kyso/messages"
	"strings"
	"testing"
)

// A port held by a program that is not Kyso is a fault that names it: its
// path, process and user, in both languages (issue 16, finding 6).
func TestCheckAgentNamesPortHolder(t *testing.T) {
	env := Env{Port: 28418, PortProbe: func(int) PortState { return PortOther }}
	env.PortHolders = func(int) []PortHolder {
		return []PortHolder{{Exe: "/usr/bin/python3.11", PID: 4242, User: "nobody"}, {PID: 7, User: ""}}
	}
	fs := CheckAgent(env)
	if len(fs) != 1 || fs[0].Level != LevelFault || fs[0].Check != "port" {
		t.Fatalf("%+v", fs)
	}
	en, vi := fs[0].Problem.EN, fs[0].Problem.VI
	for _, want := range []string{"28418", "/usr/bin/python3.11", "process 4242", "user nobody", "process 7, user ?"} {
		if !strings.Contains(en, want) {
			t.Errorf("English %q lacks %q", en, want)
		}
	}
	for _, want := range []string{"/usr/bin/python3.11", "tiến trình 4242", "người dùng nobody"} {
		if !strings.Contains(vi, want) {
			t.Errorf("Vietnamese %q lacks %q", vi, want)
		}
	}
	// Not known on this OS: the general text.
	env.PortHolders = nil
	if fs := CheckAgent(env); fs[0].Problem != messages.DoctorPortTaken.With(28418) {
		t.Errorf("no holders: %+v", fs[0].Problem)
	}
}
