package testenv

import "testing"

// The harness itself: a private token set with its own PIN, the shipped
// binary serving it, restarted after SIGKILL and stopped with SIGTERM.
func TestAgentHarness(t *testing.T) {
	tk := Provision(t, "Kyso-harness-7Q")
	a := StartAgent(t, AgentOptions{Tokens: tk, Config: map[string]any{
		"allowedOrigins": []string{"https://dichvucong.gov.vn"},
		"modules":        []string{tk.Module},
	}})
	c, _, err := a.Dial("https://dichvucong.gov.vn")
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	a.Kill()
	a.Start()
	if err := a.Stop(); err != nil {
		t.Fatalf("stop after restart: %v", err)
	}
}
