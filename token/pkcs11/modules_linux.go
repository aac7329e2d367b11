package pkcs11

import "path/filepath"

// p11kitModules lists the modules registered with p11-kit, system-wide
// (/usr/share/p11-kit/modules, from packages) then by the admin
// (/etc/pkcs11/modules). Relative names resolve against p11-kit's module
// folder, which is multiarch on Debian/Ubuntu.
func p11kitModules() []string {
	libDir := "/usr/lib/x86_64-linux-gnu/pkcs11"
	for _, d := range []string{"/usr/lib/x86_64-linux-gnu/pkcs11", "/usr/lib/aarch64-linux-gnu/pkcs11", "/usr/lib64/pkcs11", "/usr/lib/pkcs11"} {
		if isDir(d) {
			libDir = d
			break
		}
	}
	var out []string
	for _, d := range []string{"/usr/share/p11-kit/modules", "/etc/pkcs11/modules"} {
		out = append(out, parseP11KitDir(d, libDir)...)
	}
	return out
}

// vendorDirs are the folders vendor installers put their modules in (under
// vendorRoot): the system library folders, p11-kit's module folder, and the
// vendors' own: SafeNet and IDPrime also in /usr/lib/pkcs11, Gemalto Classic
// Client in /usr/lib/ClassicClient, Watchdata in /usr/lib/watchdata/lib and
// /opt/watchdata/lib64, others in /opt/<vendor>[/<product>]/lib.
func vendorDirs() []string {
	var dirs []string
	for _, d := range []string{
		"/usr/lib", "/usr/lib64", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
		"/usr/local/lib", "/usr/local/lib64", "/usr/lib/pkcs11", "/usr/lib/x86_64-linux-gnu/pkcs11",
		"/usr/lib/ClassicClient", "/usr/lib/watchdata/lib",
	} {
		dirs = append(dirs, filepath.Join(vendorRoot, d))
	}
	for _, pat := range []string{"/opt/*/lib", "/opt/*/lib64", "/opt/*", "/opt/*/*/lib"} {
		m, _ := filepath.Glob(filepath.Join(vendorRoot, pat))
		for _, d := range m {
			if isDir(d) {
				dirs = append(dirs, d)
			}
		}
	}
	return dirs
}

func moduleFileNames(base string) []string {
	return []string{"lib" + base + ".so", base + ".so"}
}
