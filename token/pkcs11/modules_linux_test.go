package pkcs11

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
)

// Vendor discovery over a fake root holding files named and placed as the
// vendors' Linux packages do (docs/tokens.md), with decoys beside them.
func TestVendorCandidatesLinux(t *testing.T) {
	root := t.TempDir()
	old := vendorRoot
	vendorRoot = root
	t.Cleanup(func() { vendorRoot = old })
	want := []string{
		"/usr/lib/libeTPkcs11.so",                       // SafeNet Authentication Client
		"/usr/lib/pkcs11/libIDPrimePKCS11.so",           // SafeNet/IDPrime as some distributions package it
		"/usr/lib/fptca_v4.so",                          // FPT-CA's fptca-4.0 package
		"/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",    // Debian opensc-pkcs11
		"/usr/lib/x86_64-linux-gnu/libykcs11.so",        // Debian ykcs11
		"/usr/local/lib/libykcs11.so",                   // yubico-piv-tool built from source
		"/usr/lib/ClassicClient/libgclib.so",            // Gemalto Classic Client
		"/usr/lib/watchdata/lib/libwdpkcs.so",           // Watchdata
		"/opt/watchdata/lib64/libwdpkcs.so",             // Watchdata, other packaging
		"/opt/viettel-ca/lib/libviettel-ca_v6.so",       // a vendor folder under /opt
		"/opt/vnpt/ca-token/lib/libvnptca_p11_v8.so",    // /opt/<vendor>/<product>/lib
		"/usr/lib64/libeTPkcs11.so",                     // RPM-style lib64
		"/usr/lib/x86_64-linux-gnu/pkcs11/libykcs11.so", // p11-kit's module folder
	}
	decoys := []string{
		"/usr/lib/libeTPKCS11.so",       // wrong case: Linux names are case-sensitive
		"/usr/lib/libeTPkcs11.so.bak",   // not the name
		"/usr/lib/libnotavendor.so",     // not a vendor name
		"/usr/share/lib/libeTPkcs11.so", // not a module folder
		"/usr/lib/libykcs11.dylib",      // another OS's name
		"/usr/lib/ykcs11.dll",           // another OS's name
	}
	for _, p := range append(append([]string{}, want...), decoys...) {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("ELF"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A folder named like a module is no candidate.
	if err := os.MkdirAll(filepath.Join(root, "/usr/local/lib/libgclib.so"), 0o755); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range vendorCandidates(vendorModules) {
		rel, err := filepath.Rel(root, p)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, "/"+rel)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("vendor candidates:\n got %q\nwant %q", got, want)
	}
}
