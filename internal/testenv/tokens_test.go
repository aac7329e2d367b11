package testenv

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/miekg/pkcs11"
)

func TestMain(m *testing.M) { Main(m) }

// p11 loads module, initializes it and returns it with a cleanup.
func p11(t testing.TB, module string) *pkcs11.Ctx {
	t.Helper()
	ctx := pkcs11.New(module)
	if ctx == nil {
		t.Fatalf("cannot load %s", module)
	}
	if err := ctx.Initialize(); err != nil {
		ctx.Destroy()
		t.Fatalf("C_Initialize %s: %v", module, err)
	}
	t.Cleanup(func() {
		ctx.Finalize()
		ctx.Destroy()
	})
	return ctx
}

// slotsByLabel maps the label of every present token to its slot.
func slotsByLabel(t testing.TB, ctx *pkcs11.Ctx) map[string]uint {
	t.Helper()
	slots, err := ctx.GetSlotList(true)
	if err != nil {
		t.Fatalf("C_GetSlotList: %v", err)
	}
	m := map[string]uint{}
	for _, s := range slots {
		ti, err := ctx.GetTokenInfo(s)
		if err != nil {
			t.Fatalf("C_GetTokenInfo(%d): %v", s, err)
		}
		if ti.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 {
			continue // SoftHSM's free slot
		}
		m[strings.TrimRight(ti.Label, " ")] = s
	}
	return m
}

// certsOn returns the DER certificates on the token in slot, by CKA_ID (hex).
func certsOn(t *testing.T, ctx *pkcs11.Ctx, slot uint) map[string][]byte {
	t.Helper()
	sh, err := ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		t.Fatalf("C_OpenSession: %v", err)
	}
	defer ctx.CloseSession(sh)
	tmpl := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE)}
	if err := ctx.FindObjectsInit(sh, tmpl); err != nil {
		t.Fatalf("C_FindObjectsInit: %v", err)
	}
	objs, _, err := ctx.FindObjects(sh, 100)
	if err != nil {
		t.Fatalf("C_FindObjects: %v", err)
	}
	if err := ctx.FindObjectsFinal(sh); err != nil {
		t.Fatalf("C_FindObjectsFinal: %v", err)
	}
	out := map[string][]byte{}
	for _, o := range objs {
		attrs, err := ctx.GetAttributeValue(sh, o, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_ID, nil),
			pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil),
		})
		if err != nil {
			t.Fatalf("C_GetAttributeValue: %v", err)
		}
		out[string(hexs(attrs[0].Value))] = attrs[1].Value
	}
	return out
}

func hexs(b []byte) string {
	const digits = "0123456789abcdef"
	s := make([]byte, 0, 2*len(b))
	for _, c := range b {
		s = append(s, digits[c>>4], digits[c&15])
	}
	return string(s)
}

func TestSharedTokens(t *testing.T) {
	tk := Shared(t)
	if got := os.Getenv("SOFTHSM2_CONF"); got != tk.Conf {
		t.Fatalf("SOFTHSM2_CONF = %q, want %q", got, tk.Conf)
	}
	if Shared(t) != tk {
		t.Fatal("Shared provisioned twice")
	}
	ctx := p11(t, tk.Module)
	slots := slotsByLabel(t, ctx)
	for _, l := range []string{LabelRSA, LabelEC, LabelRSA3072, LabelTwo} {
		if _, ok := slots[l]; !ok {
			t.Errorf("token %q not found; have %v", l, slots)
		}
	}

	want := []struct {
		token, id, file, cn string
		expired             bool
		usage               x509.KeyUsage
	}{
		{LabelRSA, "01", CertRSA, "NGUYỄN VĂN AN", false, x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment},
		{LabelRSA, "ca01", CertCA, "Kyso Test CA", false, x509.KeyUsageCertSign | x509.KeyUsageCRLSign},
		{LabelEC, "01", CertEC, "TRẦN THỊ BÌNH", false, x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment},
		{LabelRSA3072, "01", CertRSA3072, "LÊ VĂN CƯỜNG", false, x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment},
		{LabelTwo, "01", CertTwo, "PHẠM MINH ĐỨC", false, x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment},
		{LabelTwo, "02", CertExpired, "VÕ THỊ HẾT HẠN", true, x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment},
		{LabelTwo, "03", CertEnc, "ĐẶNG VĂN MÃ HÓA", false, x509.KeyUsageKeyEncipherment},
		{LabelTwo, "04", CertNoKU, "HOÀNG VĂN KHÔNG", false, 0},
	}
	onToken := map[string]map[string][]byte{}
	for l, s := range slots {
		onToken[l] = certsOn(t, ctx, s)
	}
	roots := x509.NewCertPool()
	caPEM, err := os.ReadFile(tk.CACert)
	if err != nil {
		t.Fatal(err)
	}
	roots.AppendCertsFromPEM(caPEM)
	for _, w := range want {
		der, ok := onToken[w.token][w.id]
		if !ok {
			t.Errorf("%s: no certificate with CKA_ID %s", w.token, w.id)
			continue
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatalf("%s/%s: %v", w.token, w.id, err)
		}
		if c.Subject.CommonName != w.cn {
			t.Errorf("%s/%s: CN %q, want %q", w.token, w.id, c.Subject.CommonName, w.cn)
		}
		if c.KeyUsage != w.usage {
			t.Errorf("%s/%s: key usage %b, want %b", w.token, w.id, c.KeyUsage, w.usage)
		}
		if expired := time.Now().After(c.NotAfter); expired != w.expired {
			t.Errorf("%s/%s: expired=%v, want %v", w.token, w.id, expired, w.expired)
		}
		// The PEM file beside the tokens holds the same certificate.
		p, err := os.ReadFile(tk.CertFile(w.file))
		if err != nil {
			t.Fatal(err)
		}
		blk, _ := pem.Decode(p)
		if blk == nil || sha256.Sum256(blk.Bytes) != sha256.Sum256(der) {
			t.Errorf("%s differs from the token's certificate", tk.CertFile(w.file))
		}
		_, err = c.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: c.NotBefore.Add(time.Hour), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		if err != nil {
			t.Errorf("%s/%s does not chain to the test CA: %v", w.token, w.id, err)
		}
	}
	if n := len(onToken[LabelTwo]); n != 4 {
		t.Errorf("%s holds %d certificates, want 4", LabelTwo, n)
	}
}

// Each key pair on the tokens signs, and the signature verifies with the
// certificate's public key: the keys and certificates do belong together.
func TestTokenKeysSign(t *testing.T) {
	tk := Shared(t)
	ctx := p11(t, tk.Module)
	slots := slotsByLabel(t, ctx)
	hash := sha256.Sum256([]byte("Kyso ký số"))
	for _, c := range []struct{ token, id, file string }{
		{LabelRSA, "01", CertRSA}, {LabelEC, "01", CertEC}, {LabelRSA3072, "01", CertRSA3072},
		{LabelTwo, "01", CertTwo}, {LabelTwo, "02", CertExpired}, {LabelTwo, "04", CertNoKU},
	} {
		sig := signWith(t, ctx, slots[c.token], c.id, hash[:])
		verifyHash(t, tk.CertFile(c.file), hash[:], sig)
	}
}
