package installer

import "fmt"

func portHint(port int) string { return fmt.Sprintf("lsof -nP -iTCP:%d -sTCP:LISTEN", port) }

func startHint() string { return "launchctl kickstart gui/$(id -u)/vn.kyso.agent" }
