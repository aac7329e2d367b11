package pkcs11

import "path/filepath"

// p11kitModules: p11-kit is a Linux registry; macOS vendors install into
// fixed folders instead.
func p11kitModules() []string { return nil }

// vendorDirs are the folders vendor installers put their modules in (under
// vendorRoot). OpenSC's package copies opensc-pkcs11.so to /usr/local/lib
// (also in /Library/OpenSC/lib), Yubico's libykcs11.dylib goes to
// /usr/local/lib, Homebrew's to /opt/homebrew/lib on Apple silicon, Gemalto
// Classic Client to /usr/local/lib/ClassicClient, SafeNet's libraries live in
// its eToken framework.
func vendorDirs() []string {
	var dirs []string
	for _, d := range []string{"/usr/local/lib", "/opt/homebrew/lib", "/Library/OpenSC/lib", "/usr/local/lib/pkcs11", "/usr/local/lib/ClassicClient"} {
		dirs = append(dirs, filepath.Join(vendorRoot, d))
	}
	for _, pat := range []string{"/Library/*/lib", "/Library/Frameworks/*.framework/Versions/Current", "/Library/Frameworks/*.framework/Versions/Current/Libraries", "/Applications/*.app/Contents/Frameworks"} {
		m, _ := filepath.Glob(filepath.Join(vendorRoot, pat))
		dirs = append(dirs, m...)
	}
	return dirs
}

// moduleFileNames: macOS modules are .dylib, except OpenSC's, which keeps
// the .so name it has on Linux.
func moduleFileNames(base string) []string {
	return []string{"lib" + base + ".dylib", base + ".dylib", base + ".so"}
}
