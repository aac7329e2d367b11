package installer

import "fmt"

func portHint(port int) string { return fmt.Sprintf("ss -ltnp 'sport = :%d'", port) }

func startHint() string { return "systemctl --user start kyso.service" }
