package pkcs11

import (
	"os"
	"path/filepath"
)

// p11kitModules: p11-kit is a Linux registry; Windows has none.
func p11kitModules() []string { return nil }

// vendorDirs: vendor installers put their 64-bit modules in System32
// (SysWOW64 holds 32-bit ones, which a 64-bit process cannot load). OpenSC
// (since 0.18) and Yubico install into Program Files instead.
func vendorDirs() []string {
	root := os.Getenv("SystemRoot")
	if root == "" {
		root = `C:\Windows`
	}
	pf := os.Getenv("ProgramFiles")
	if pf == "" {
		pf = `C:\Program Files`
	}
	return []string{
		filepath.Join(root, "System32"),
		filepath.Join(pf, "OpenSC Project", "OpenSC", "pkcs11"),
		filepath.Join(pf, "Yubico", "Yubico PIV Tool", "bin"),
	}
}

// moduleFileNames: <name>.dll, and lib<name>.dll as Yubico names its
// libykcs11.dll. Names are case-insensitive here: eTPkcs11 finds eTPKCS11.dll.
func moduleFileNames(base string) []string { return []string{base + ".dll", "lib" + base + ".dll"} }
