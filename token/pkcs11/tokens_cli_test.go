package pkcs11_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"kyso.vn/kyso/internal/testenv"
)

// TestKysoTokensCommand runs the real `kyso tokens` with a config naming
// SoftHSM and reads what a person would read.
func TestKysoTokensCommand(t *testing.T) {
	tk := testenv.Shared(t) // also puts SOFTHSM2_CONF in the child's env
	bin := testenv.KysoBinary(t)
	cfg := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(cfg, []byte(`{"modules": ["`+tk.Module+`"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "tokens", "--config", cfg)
	cmd.Env = append(os.Environ(), "LANG=vi_VN.UTF-8", "LC_ALL=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kyso tokens: %v\n%s", err, out)
	}
	s := string(out)
	der, err := os.ReadFile(filepath.Join(tk.Dir, testenv.CertRSA+".der"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	for _, want := range []string{
		"NGUYỄN VĂN AN",
		"CN=NGUYỄN VĂN AN, O=Sở Thông tin và Truyền thông, L=Hà Nội, C=VN",
		hex.EncodeToString(sum[:]),
		`Token "` + testenv.LabelRSA + `"`,
		"RSA 2048", "EC P-256", "RSA 3072",
		"ĐÃ HẾT HẠN", // the expired certificate is shown, marked
		tk.Module,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "ĐẶNG VĂN MÃ HÓA") {
		t.Errorf("the encryption-only certificate is listed:\n%s", s)
	}
	if strings.Contains(s, "HOÀNG VĂN KHÔNG") {
		t.Errorf("the certificate without keyUsage is listed:\n%s", s)
	}
	// No PIN: drop the hex ids and serials (which may contain any digit
	// run by chance), then look for the test PIN.
	noHex := regexp.MustCompile(`[0-9a-f]{16,}`).ReplaceAllString(s, "")
	if strings.Contains(noHex, testenv.PIN) {
		t.Errorf("output contains the PIN:\n%s", s)
	}
}
