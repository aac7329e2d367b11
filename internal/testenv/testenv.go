// Package testenv gives Kyso's tests real parts to work with: SoftHSM2 tokens
// provisioned by testdata/provision.sh, the fault-injecting PKCS#11 module
// built from testdata/faultp11, and the kyso binary. Each is made once per
// test process and shared by every test in it. See testdata/README.md.
package testenv

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// PINs of every provisioned token.
const (
	PIN   = "123456"
	SOPIN = "12345678"
)

// Labels of the provisioned tokens.
const (
	LabelRSA     = "kyso-rsa2048" // RSA-2048 key (CN=NGUYỄN VĂN AN) and the CA certificate
	LabelEC      = "kyso-ec256"   // ECDSA P-256 key (CN=TRẦN THỊ BÌNH)
	LabelRSA3072 = "kyso-rsa3072" // RSA-3072 key (CN=LÊ VĂN CƯỜNG)
	LabelTwo     = "kyso-two"     // valid, expired, encryption-only and no-key-usage keys
)

// Certificate names for Tokens.CertFile (object labels on the tokens too).
const (
	CertRSA     = "kyso-rsa2048"
	CertEC      = "kyso-ec256"
	CertRSA3072 = "kyso-rsa3072"
	CertTwo     = "kyso-two"         // CN=PHẠM MINH ĐỨC, valid
	CertExpired = "kyso-two-expired" // CN=VÕ THỊ HẾT HẠN, expired in 2021
	CertEnc     = "kyso-two-enc"     // CN=ĐẶNG VĂN MÃ HÓA, keyEncipherment only
	CertNoKU    = "kyso-two-noku"    // CN=HOÀNG VĂN KHÔNG, EC P-256, no keyUsage extension
	CertCA      = "ca"               // the test CA (stored on kyso-rsa2048)
)

// SoftHSMModule is the Debian path of SoftHSM2's PKCS#11 module; FindSoftHSM
// also looks in the other usual places.
const SoftHSMModule = "/usr/lib/softhsm/libsofthsm2.so"

var softHSMPaths = []string{
	SoftHSMModule,
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/local/lib/softhsm/libsofthsm2.so",
}

// FindSoftHSM returns the path of libsofthsm2.so, or "" when none is installed.
func FindSoftHSM() string {
	for _, p := range softHSMPaths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// Tokens is a provisioned set of SoftHSM2 tokens.
type Tokens struct {
	Dir    string // the provisioning directory
	Conf   string // Dir/softhsm2.conf, also in $SOFTHSM2_CONF
	Module string // path of libsofthsm2.so
	CACert string // Dir/ca.pem
	PIN    string // the user PIN of every token in the set
}

// CertFile returns the PEM file of certificate name (one of the Cert*
// constants): Dir/<name>.pem. The DER is beside it as <name>.der.
func (tk *Tokens) CertFile(name string) string {
	return filepath.Join(tk.Dir, name+".pem")
}

// Cert parses the certificate name (one of the Cert* constants).
func (tk *Tokens) Cert(t testing.TB, name string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(tk.CertFile(name))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("testenv: %s: no PEM", name)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// CertID is protocol v1's certificateId of the certificate name.
func (tk *Tokens) CertID(t testing.TB, name string) string {
	t.Helper()
	sum := sha256.Sum256(tk.Cert(t, name).Raw)
	return hex.EncodeToString(sum[:])
}

// RepoRoot returns the repository root: the first directory at or above the
// current one (a test's package directory) holding go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("testenv: working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testenv: no go.mod above the working directory")
		}
		dir = parent
	}
}

var (
	sharedOnce   sync.Once
	sharedTokens *Tokens
	sharedErr    error

	tempMu   sync.Mutex
	tempDirs []string
)

// mkTemp makes a process-wide temp dir that Main removes at the end.
func mkTemp(pattern string) (string, error) {
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", err
	}
	tempMu.Lock()
	tempDirs = append(tempDirs, dir)
	tempMu.Unlock()
	return dir, nil
}

// Main runs a package's tests and then removes what testenv made for the
// whole process (tokens, built module and binary). Use it from TestMain:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// Without it those temp dirs stay behind in $TMPDIR.
func Main(m *testing.M) {
	code := m.Run()
	tempMu.Lock()
	for _, d := range tempDirs {
		os.RemoveAll(d)
	}
	tempMu.Unlock()
	os.Exit(code)
}

// Shared provisions the four test tokens once per test process and sets
// SOFTHSM2_CONF for the whole process: SoftHSM reads it once, at
// C_Initialize, so every test in a process sees the same token set. Tests
// must not change the tokens' objects or PINs (use a Fault for PIN states).
// It skips nothing: a missing tool fails the test with the script's output.
func Shared(t testing.TB) *Tokens {
	t.Helper()
	sharedOnce.Do(func() {
		sharedTokens, sharedErr = provision(PIN)
		if sharedErr == nil {
			sharedErr = os.Setenv("SOFTHSM2_CONF", sharedTokens.Conf)
		}
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedTokens
}

// Provision makes a private set of the same four tokens whose user PIN is
// pin, and leaves the process environment alone: give its Conf to a kyso
// process through SOFTHSM2_CONF (AgentOptions.Tokens does). Suites that
// must prove the PIN never leaks use a PIN no log line could hold by chance.
func Provision(t testing.TB, pin string) *Tokens {
	t.Helper()
	tk, err := provision(pin)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// SuiteTokens gives a suite its private tokens (Provision with pin), made
// once per test process by the first test that asks: declare it as a
// package variable, `var tokens = testenv.SuiteTokens(pin)`.
func SuiteTokens(pin string) func(testing.TB) *Tokens {
	var (
		once sync.Once
		tk   *Tokens
	)
	return func(t testing.TB) *Tokens {
		t.Helper()
		once.Do(func() { tk = Provision(t, pin) })
		if tk == nil {
			t.Fatal("testenv: the suite's tokens could not be provisioned (see the first test that asked)")
		}
		return tk
	}
}

func provision(pin string) (*Tokens, error) {
	module := FindSoftHSM()
	if module == "" {
		return nil, errors.New("testenv: libsofthsm2.so not found (apt-get install softhsm2)")
	}
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	dir, err := mkTemp("kyso-tokens-")
	if err != nil {
		return nil, fmt.Errorf("testenv: %w", err)
	}
	cmd := exec.Command("bash", filepath.Join(root, "testdata", "provision.sh"), dir)
	cmd.Env = append(os.Environ(), "KYSO_SOFTHSM_MODULE="+module, "KYSO_TEST_USER_PIN="+pin)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("testenv: testdata/provision.sh %s: %w\n%s", dir, err, out)
	}
	tk := &Tokens{
		Dir:    dir,
		Conf:   filepath.Join(dir, "softhsm2.conf"),
		Module: module,
		CACert: filepath.Join(dir, "ca.pem"),
		PIN:    pin,
	}
	return tk, nil
}
