package pkcs11

import (
	"os"
	"path/filepath"
)

// p11kitModules: p11-kit is a Linux registry; Windows has none.
func p11kitModules() []string { return nil }

// vendorDirs: vendor installers put their 64-bit modules in System32
// (SysWOW64 holds 32-bit ones, which a 64-bit process cannot load).
func vendorDirs() []string {
	root := os.Getenv("SystemRoot")
	if root == "" {
		root = `C:\Windows`
	}
	return []string{filepath.Join(root, "System32")}
}

func moduleFileNames(base string) []string { return []string{base + ".dll"} }
