// Command manifestgen writes the two host manifests (Chromium family and
// Firefox) for a given host path, from the one source of truth
// (extension/ids.json via package manifests). The MSI and the macOS package
// ship its output.
//
//	go run ./installer/manifestgen -path kyso.exe -dir build/msi
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"kyso.vn/kyso/manifests"
)

func main() {
	path := flag.String("path", "", "the host program path written into the manifests")
	dir := flag.String("dir", ".", "output folder")
	flag.Parse()
	if err := run(*path, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "manifestgen:", err)
		os.Exit(1)
	}
}

func run(path, dir string) error {
	if path == "" {
		return fmt.Errorf("-path is required")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, render := range map[string]func(string) ([]byte, error){
		"chromium": manifests.Chromium, "firefox": manifests.Firefox,
	} {
		b, err := render(path)
		if err != nil {
			return err
		}
		out := filepath.Join(dir, manifests.HostName()+"."+name+".json")
		if err := os.WriteFile(out, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
