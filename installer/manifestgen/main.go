// Command manifestgen writes the two host manifests (Chromium family and
// Firefox) for a given host path, from the one id source (internal/extid),
// and with -wxi the MSI's pre-registration of the extension (two WiX
// include files that installer/windows/kyso.wxs pulls in). The MSI and the
// macOS package ship its output.
//
//	go run ./installer/manifestgen -path kyso.exe -dir build/msi -wxi
//
// -ids FILE replaces the embedded ids (the package tests stage an MSI as if
// the store ids were published).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"kyso.vn/kyso/installer"
	"kyso.vn/kyso/internal/extid"
	"kyso.vn/kyso/manifests"
)

func main() {
	path := flag.String("path", "", "the host program path written into the manifests")
	dir := flag.String("dir", ".", "output folder")
	idsFile := flag.String("ids", "", "an ids.json to use instead of the embedded one (tests)")
	wxi := flag.Bool("wxi", false, "also write the MSI's pre-registration (prereg-components.wxi, prereg-features.wxi)")
	flag.Parse()
	if err := run(*path, *dir, *idsFile, *wxi); err != nil {
		fmt.Fprintln(os.Stderr, "manifestgen:", err)
		os.Exit(1)
	}
}

func run(path, dir, idsFile string, wxi bool) error {
	if path == "" {
		return fmt.Errorf("-path is required")
	}
	x := extid.Kyso
	if idsFile != "" {
		var err error
		if x, err = extid.Load(idsFile); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	chromium, err := manifests.Chromium(path, x.Chromium())
	if err != nil {
		return err
	}
	firefox, err := manifests.Firefox(path, x.Firefox.ID)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		manifests.HostName() + ".chromium.json": chromium,
		manifests.HostName() + ".firefox.json":  firefox,
	}
	if wxi {
		files["prereg-components.wxi"], files["prereg-features.wxi"] = installer.WiXPrereg(x)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
