package pkcs11

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/miekg/pkcs11"

	"kyso.vn/kyso/internal/filetrust"
	"kyso.vn/kyso/token"
)

// vendorModules are the PKCS#11 module base names shipped by token vendors
// whose tokens are in use in Vietnam (../shared/pkcs11-modules.txt). They
// are data in the binary on purpose: the modules come only from the
// agent's side. A base name becomes a file name per OS (moduleFileNames):
// Windows <name>.dll or lib<name>.dll, Linux lib<name>.so or <name>.so,
// macOS lib<name>.dylib, <name>.dylib or <name>.so. docs/tokens.md has one
// row per name, in this order, saying what was verified of it and where
// (TestVendorModulesDocumented keeps the two equal).
var vendorModules = []string{
	"eTPkcs11",
	"eps2003csp11", "eps2003csp11v2",
	"ShuttleCsp11_3003",
	"vnpt-ca_csp11", "vnptca_p11_v6", "vnptca_p11_v7", "vnptca_p11_v8",
	"vnptca_p11_v9", "vnptca_p11_v10",
	"viettel-ca_v1", "viettel-ca_v2", "viettel-ca_v3", "viettel-ca_v4",
	"viettel-ca_v5", "viettel-ca_v6",
	"BkavCA",
	"fptca_v3", "fptca_v4", "fptca_v5", "fptca_v6",
	"nca_v4", "nca_v5", "nca_v6", "nca_v7", "nca_v8", "nca_v9",
	"Vina-CA",
	"safe-ca",
	"wdpkcs",
	"vdctdcsp11",
	"CA2_csp11",
	"st3csp11",
	"gclib",
	"psapkcs",
	"ostc1_csp11",
	"ngp11v211",
	"SignatureP11",
	"opensc-pkcs11",
	"IDPrimePKCS11",
	"ykcs11",
}

// vendorRoot is the root the Linux and macOS vendor folders are looked up
// under: "/", a temp dir in tests.
var vendorRoot = "/"

// Discover lists the modules to use, in order: configured ones (the user's:
// they may belong to the administrators or to the user), then the p11-kit
// registered ones (Linux), then known vendor modules found on disk. Each is
// loaded and initialised (once per process); a module that fails is
// reported in its status, never fatal. Modules are deduplicated by their
// resolved real path, so a vendor module also registered with p11-kit is
// loaded once, under its first source.
func Discover(configured []string) []token.ModuleStatus {
	return statuses(discover(nil, configured, true, nil, false))
}

// moduleStatus is a module's token.ModuleStatus with its resolved path,
// the key of the process-wide module map, and who may own it.
type moduleStatus struct {
	token.ModuleStatus
	real   string
	owners filetrust.Owners
}

func statuses(in []moduleStatus) []token.ModuleStatus {
	out := make([]token.ModuleStatus, len(in))
	for i, st := range in {
		out[i] = st.ModuleStatus
	}
	return out
}

// discover is Discover with the system policy's modules first and the
// crash journal j (nil: none): a module it disabled is not loaded (its
// status has a *CrashError), nor, when cautious, one with a crash not yet
// cleared. Loading is journaled.
func discover(policy, configured []string, auto bool, j *Journal, cautious bool) []moduleStatus {
	type cand struct{ path, source string }
	var cands []cand
	for _, p := range policy {
		cands = append(cands, cand{p, token.SourcePolicy})
	}
	for _, p := range configured {
		cands = append(cands, cand{p, token.SourceConfig})
	}
	if auto {
		for _, p := range p11kitModules() {
			cands = append(cands, cand{p, token.SourceP11Kit})
		}
		for _, p := range vendorCandidates(vendorModules) {
			cands = append(cands, cand{p, token.SourceVendor})
		}
	}
	seen := map[string]bool{}
	var out []moduleStatus
	for _, c := range cands {
		real := realPath(c.path)
		if seen[real] {
			continue
		}
		seen[real] = true
		st := moduleStatus{ModuleStatus: token.ModuleStatus{Path: c.path, Source: c.source}, real: real,
			owners: moduleOwners(c.source)}
		if rec, ok := j.Record(real); ok && (rec.Disabled || cautious && rec.Crashes > 0) {
			st.Err = &CrashError{Path: c.path, Record: rec}
			out = append(out, st)
			continue
		}
		r := j.markFor(real).enter("C_Initialize")
		_, err := loadModule(real, st.owners)
		r.leave()
		if err != nil {
			st.Err = err
		} else {
			st.Loaded = true
		}
		out = append(out, st)
	}
	return out
}

// module is one loaded and initialised PKCS#11 library.
type module struct {
	path string
	ctx  *pkcs11.Ctx
}

// Modules are loaded and C_Initialize'd once per process and kept: many
// modules fail or misbehave on a second C_Initialize, and unloading a module
// while another part of the process (or a browser's p11-kit proxy in the
// same process) still uses it is unsafe. Failures are remembered too, so a
// broken module is not dlopen'ed on every request.
var (
	modulesMu sync.Mutex
	modules   = map[string]*module{}
	modErrs   = map[string]error{}
)

// moduleOwners is who may own a module of a source: the administrators for
// the system policy's, which every user's Kyso loads; the administrators
// or the user for the others (the user's own choice, p11-kit's registry
// and the vendors' system folders, which root owns anyway).
func moduleOwners(source string) filetrust.Owners {
	if source == token.SourcePolicy {
		return filetrust.Admins
	}
	return filetrust.AdminsOrSelf
}

// loadModule loads the module at path (resolved) once per process. Before
// that, and before every later use, the module must pass the ownership
// rule of its source (internal/filetrust): another local account must not
// be able to plant or replace code that runs inside Kyso. That check is
// not remembered, so a module whose permissions are fixed is used at the
// next discovery.
func loadModule(path string, who filetrust.Owners) (*module, error) {
	if err := checkModuleFile(path, who); err != nil {
		return nil, err
	}
	modulesMu.Lock()
	defer modulesMu.Unlock()
	if m, ok := modules[path]; ok {
		return m, nil
	}
	if err, ok := modErrs[path]; ok {
		return nil, err
	}
	m, err := openModule(path)
	if err != nil {
		// A file not there yet may be installed later; a file that fails
		// to load or initialise is not tried again.
		if !errors.Is(err, fs.ErrNotExist) {
			modErrs[path] = err
		}
		return nil, err
	}
	modules[path] = m
	return m, nil
}

// checkModuleFile refuses a module that another account than who could
// plant or replace (internal/filetrust). A page never names a module; this
// is about another local account planting one in a folder the policy, the
// config or a vendor's installer points at.
func checkModuleFile(path string, who filetrust.Owners) error {
	if err := filetrust.Check(path, who); err != nil {
		return fmt.Errorf("module %s: %w", path, err)
	}
	return nil
}

func openModule(path string) (*module, error) {
	ctx := pkcs11.New(path)
	if ctx == nil {
		return nil, fmt.Errorf("module %s: cannot load it or it has no C_GetFunctionList", path)
	}
	if err := ctx.Initialize(); err != nil {
		// Another library in this process may have initialised it already;
		// the module is then usable as it is.
		if e, ok := err.(pkcs11.Error); !ok || e != pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED {
			ctx.Destroy()
			return nil, fmt.Errorf("module %s: C_Initialize: %w", path, ckrError{err})
		}
	}
	return &module{path: path, ctx: ctx}, nil
}

// ckrError shows a PKCS#11 return value by its CKR_ name and keeps it
// reachable with errors.As.
type ckrError struct{ err error }

func (e ckrError) Error() string { return ckrName(e.err) }
func (e ckrError) Unwrap() error { return e.err }

// CKR is the CKR_ name inside err, "" when err holds no PKCS#11 return value.
func CKR(err error) string {
	var e pkcs11.Error
	if err == nil || !errors.As(err, &e) {
		return ""
	}
	return ckrName(e)
}

// parseP11KitDir reads the `module:` lines of the *.module files in dir.
// Relative module names resolve against libDir. The trust module (it holds
// trust anchors, no keys), the proxy and the client (they would list every
// module a second time) are skipped.
func parseP11KitDir(dir, libDir string) []string {
	files, _ := filepath.Glob(filepath.Join(dir, "*.module"))
	sort.Strings(files)
	var out []string
	for _, f := range files {
		p := moduleLine(f)
		if p == "" {
			continue
		}
		base := filepath.Base(p)
		if strings.HasPrefix(base, "p11-kit-trust") || strings.HasPrefix(base, "p11-kit-proxy") ||
			strings.HasPrefix(base, "p11-kit-client") {
			continue
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(libDir, p)
		}
		out = append(out, p)
	}
	return out
}

func moduleLine(file string) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == "module" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// vendorCandidates returns the existing files, among the per-OS folders
// and name patterns, for the given module base names.
func vendorCandidates(names []string) []string {
	var out []string
	for _, dir := range vendorDirs() {
		for _, n := range names {
			for _, file := range moduleFileNames(n) {
				p := filepath.Join(dir, file)
				if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
