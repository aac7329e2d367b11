// Command genjson writes extension/messages.json from the message table
// (go generate ./messages).
package main

import (
	"fmt"
	"os"

	"kyso.vn/kyso/messages"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: genjson FILE")
		os.Exit(2)
	}
	if err := os.WriteFile(os.Args[1], messages.JSON(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
