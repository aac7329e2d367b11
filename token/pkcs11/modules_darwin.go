package pkcs11

import "path/filepath"

// p11kitModules: p11-kit is a Linux registry; macOS vendors install into
// fixed folders instead.
func p11kitModules() []string { return nil }

func vendorDirs() []string {
	dirs := []string{"/usr/local/lib", "/opt/homebrew/lib", "/Library/OpenSC/lib", "/usr/local/lib/pkcs11"}
	for _, pat := range []string{"/Library/*/lib", "/Library/Frameworks/*.framework/Versions/Current/Libraries", "/Applications/*.app/Contents/Frameworks"} {
		m, _ := filepath.Glob(pat)
		dirs = append(dirs, m...)
	}
	return dirs
}

func moduleFileNames(base string) []string {
	return []string{"lib" + base + ".dylib", base + ".dylib"}
}
