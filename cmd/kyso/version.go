package main

import (
	"fmt"

	"kyso.vn/kyso/engine"
	"kyso.vn/kyso/messages"
)

func init() {
	register(command{name: "version", usage: messages.HelpVersion, run: func([]string) error {
		fmt.Printf("kyso %s (protocol 1)\n", engine.Version)
		return nil
	}})
}
