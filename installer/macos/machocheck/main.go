// Command machocheck checks the macOS builds of kyso made on Linux (`make
// darwin`), where they cannot be run: each is a Mach-O executable for its
// CPU that links only libSystem and the real CoreFoundation and Security
// frameworks (the install names of installer/macos/stubs, never a stub
// path), targets macOS, and on arm64 carries the ad-hoc code signature
// Apple Silicon refuses to run a binary without. A universal file must hold
// both CPUs, each passing the same checks.
//
//	go run ./installer/macos/machocheck amd64=dist/darwin/kyso-darwin-amd64 \
//	  arm64=dist/darwin/kyso-darwin-arm64 universal=dist/darwin/kyso-darwin-universal
package main

import (
	"debug/macho"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
)

const (
	lcCodeSignature = 0x1d
	lcBuildVersion  = 0x32
	platformMacOS   = 1
)

// allowedLibs is everything the binary may load; anything else would be
// missing on a user's Mac.
var allowedLibs = []string{
	"/usr/lib/libSystem.B.dylib",
	"/System/Library/Frameworks/CoreFoundation.framework/Versions/A/CoreFoundation",
	"/System/Library/Frameworks/Security.framework/Versions/A/Security",
}

var cpus = map[string]macho.Cpu{"amd64": macho.CpuAmd64, "arm64": macho.CpuArm64}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: machocheck amd64=FILE | arm64=FILE | universal=FILE ...")
		os.Exit(2)
	}
	failed := false
	for _, arg := range os.Args[1:] {
		kind, path, _ := strings.Cut(arg, "=")
		if err := check(kind, path); err != nil {
			fmt.Fprintf(os.Stderr, "FAIL %s: %v\n", path, err)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

func check(kind, path string) error {
	if kind == "universal" {
		ff, err := macho.OpenFat(path)
		if err != nil {
			return fmt.Errorf("not a universal Mach-O: %w", err)
		}
		defer ff.Close()
		var got []string
		for _, a := range ff.Arches {
			name := ""
			for n, c := range cpus {
				if c == a.Cpu {
					name = n
				}
			}
			if name == "" {
				return fmt.Errorf("unexpected CPU %v", a.Cpu)
			}
			if err := checkThin(a.File, name); err != nil {
				return fmt.Errorf("%s slice: %w", name, err)
			}
			got = append(got, name)
		}
		slices.Sort(got)
		if !slices.Equal(got, []string{"amd64", "arm64"}) {
			return fmt.Errorf("slices %v, want amd64 and arm64", got)
		}
		fmt.Printf("ok %s: universal (amd64, arm64)\n", path)
		return nil
	}
	f, err := macho.Open(path)
	if err != nil {
		return fmt.Errorf("not a Mach-O file: %w", err)
	}
	defer f.Close()
	if err := checkThin(f, kind); err != nil {
		return err
	}
	fmt.Printf("ok %s: %s\n", path, kind)
	return nil
}

func checkThin(f *macho.File, arch string) error {
	want, ok := cpus[arch]
	if !ok {
		return fmt.Errorf("unknown architecture %q", arch)
	}
	if f.Cpu != want {
		return fmt.Errorf("CPU %v, want %v", f.Cpu, want)
	}
	if f.Type != macho.TypeExec {
		return fmt.Errorf("file type %v, want an executable", f.Type)
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		return fmt.Errorf("read imported libraries: %w", err)
	}
	for _, l := range libs {
		if !slices.Contains(allowedLibs, l) {
			return fmt.Errorf("links %q, which is not on every Mac", l)
		}
	}
	if !slices.Contains(libs, allowedLibs[0]) {
		return errors.New("does not link libSystem: not a cgo build")
	}
	platform, signed := uint32(0), false
	for _, l := range f.Loads {
		raw := l.Raw()
		if len(raw) < 12 {
			continue
		}
		switch f.ByteOrder.Uint32(raw) {
		case lcCodeSignature:
			signed = true
		case lcBuildVersion:
			platform = binary.LittleEndian.Uint32(raw[8:])
		}
	}
	if platform != platformMacOS {
		return fmt.Errorf("build platform %d, want macOS (%d)", platform, platformMacOS)
	}
	if arch == "arm64" && !signed {
		return errors.New("no code signature: Apple Silicon would kill it at start")
	}
	return nil
}
