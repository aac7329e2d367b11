package main

import (
	"fmt"

	"kyso.vn/kyso/engine"
)

func init() {
	register(command{name: "version", usage: "print the version", run: func([]string) error {
		fmt.Printf("kyso %s (protocol 1)\n", engine.Version)
		return nil
	}})
}
