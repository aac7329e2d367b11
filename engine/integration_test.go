package engine

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

	"kyso.vn/kyso/internal/testenv"
	"kyso.vn/kyso/prompt/prompttest"
	"kyso.vn/kyso/token"
	"kyso.vn/kyso/token/pkcs11"
)

// The same flows as the unit tests, on the real token layer over SoftHSM2
// tokens provisioned by testdata (testenv), with signatures verified by Go
// crypto and by openssl.

func TestMain(m *testing.M) { testenv.Main(m) }

func softHarness(t *testing.T, system string) (*harness, *testenv.Tokens) {
	t.Helper()
	tk := testenv.Shared(t)
	prov := pkcs11.New(pkcs11.Options{Modules: []string{tk.Module}, NoDiscovery: true, Log: zerolog.Nop()})
	h := newHarness(t, prov, allowPortal)
	if system != "" {
		writeFile(t, h.paths.System, system)
	}
	return h, tk
}

type certResult struct {
	Certificate         string
	CertificateID       string
	Subject             string
	NotAfter            string
	Token               token.Info
	SignatureAlgorithms []signatureAlgorithm
	Chain               []string
}

// pickHolder answers the picker with the line of holder and returns the
// getCertificate result.
func (h *harness) pickHolder(holder string) certResult {
	h.t.Helper()
	// The picker lists the provider's certificates in its order.
	certs, err := h.prov.Certificates(h.t.Context())
	if err != nil {
		h.t.Fatal(err)
	}
	idx := -1
	for i, c := range certs {
		if c.Cert.Subject.CommonName == holder {
			idx = i
		}
	}
	if idx < 0 {
		h.t.Fatalf("no certificate of %s", holder)
	}
	h.pr.OnPick(prompttest.Pick(idx))
	r := h.call(portal, "getCertificate", nil)
	if code(r) != "OK" {
		h.t.Fatalf("getCertificate: %v", r.Error)
	}
	var res certResult
	json.Unmarshal(r.Result, &res)
	return res
}

func parseB64Cert(t *testing.T, b64 string) *x509.Certificate {
	t.Helper()
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// opensslVerify checks a signature of a hash with `openssl pkeyutl`.
func opensslVerify(t *testing.T, cert *x509.Certificate, hash, sig []byte, digest string, pss bool) {
	t.Helper()
	dir := t.TempDir()
	files := map[string][]byte{"cert.der": cert.Raw, "hash.bin": hash, "sig.bin": sig}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	pem := filepath.Join(dir, "cert.pem")
	if out, err := exec.Command("openssl", "x509", "-inform", "DER", "-in", filepath.Join(dir, "cert.der"), "-out", pem).CombinedOutput(); err != nil {
		t.Fatalf("openssl x509: %v\n%s", err, out)
	}
	args := []string{"pkeyutl", "-verify", "-certin", "-inkey", pem, "-in", filepath.Join(dir, "hash.bin"),
		"-sigfile", filepath.Join(dir, "sig.bin"), "-pkeyopt", "digest:" + digest}
	if pss {
		args = append(args, "-pkeyopt", "rsa_padding_mode:pss", "-pkeyopt", "rsa_pss_saltlen:digest")
	}
	out, err := exec.Command("openssl", args...).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("Signature Verified Successfully")) {
		t.Fatalf("openssl does not verify: %v\n%s", err, out)
	}
}

func TestSoftHSMGetCertificateAndSign(t *testing.T) {
	h, _ := softHarness(t, "")
	res := h.pickHolder("NGUYỄN VĂN AN")
	cert := parseB64Cert(t, res.Certificate)
	sum := sha256.Sum256(cert.Raw)
	if res.CertificateID != fmt.Sprintf("%x", sum) || res.Token.Label != testenv.LabelRSA ||
		len(res.SignatureAlgorithms) != 14 || len(res.Chain) != 1 {
		t.Fatalf("getCertificate result: %+v", res)
	}
	// Every certificate is offered; the expired one is marked.
	picks := h.pr.Calls()[0].Certs
	expired := 0
	for _, c := range picks {
		if c.Expired {
			expired++
			if c.Holder != "VÕ THỊ HẾT HẠN" {
				t.Errorf("marked expired: %s", c.Holder)
			}
		}
	}
	if expired != 1 {
		t.Fatalf("expired marked %d times in %+v", expired, picks)
	}

	doc := sha256.Sum256([]byte("Tờ khai đăng ký kinh doanh"))
	h.pr.OnPIN(prompttest.PIN(testenv.PIN))
	r := h.call(portal, "sign", map[string]any{"certificateId": res.CertificateID,
		"hash": base64.StdEncoding.EncodeToString(doc[:]), "hashFunction": "SHA-256", "description": "Đăng ký kinh doanh"})
	if code(r) != "OK" {
		t.Fatalf("sign: %v", r.Error)
	}
	var sr signResult
	json.Unmarshal(r.Result, &sr)
	sig, _ := base64.StdEncoding.DecodeString(sr.Signature)
	if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, doc[:], sig); err != nil {
		t.Fatalf("Go crypto: %v", err)
	}
	opensslVerify(t, cert, doc[:], sig, "sha256", false)
	if p := h.pr.PINCalls()[0]; p.Holder != "NGUYỄN VĂN AN" || p.Token != testenv.LabelRSA || p.Origin != portal {
		t.Fatalf("PIN dialog %+v", p)
	}

	// RSASSA-PSS with SHA-384 on the 3072-bit key.
	res = h.pickHolder("LÊ VĂN CƯỜNG")
	cert = parseB64Cert(t, res.Certificate)
	d384 := sha512.Sum384([]byte("PSS"))
	h.pr.OnPIN(prompttest.PIN(testenv.PIN))
	r = h.call(portal, "sign", map[string]any{"certificateId": res.CertificateID, "scheme": "RSASSA-PSS",
		"hash": base64.StdEncoding.EncodeToString(d384[:]), "hashFunction": "SHA-384"})
	if code(r) != "OK" {
		t.Fatalf("PSS: %v", r.Error)
	}
	json.Unmarshal(r.Result, &sr)
	sig, _ = base64.StdEncoding.DecodeString(sr.Signature)
	if err := rsa.VerifyPSS(cert.PublicKey.(*rsa.PublicKey), crypto.SHA384, d384[:], sig,
		&rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}); err != nil {
		t.Fatalf("PSS Go crypto: %v", err)
	}
	opensslVerify(t, cert, d384[:], sig, "sha384", true)

	// ECDSA key with an RSA scheme: refused before any dialog.
	res = h.pickHolder("TRẦN THỊ BÌNH")
	pins := h.pr.Count("pin")
	r = h.call(portal, "sign", map[string]any{"certificateId": res.CertificateID, "scheme": "RSASSA-PKCS1-v1_5",
		"hash": base64.StdEncoding.EncodeToString(doc[:]), "hashFunction": "SHA-256"})
	if code(r) != "UNSUPPORTED_ALGORITHM" || h.pr.Count("pin") != pins {
		t.Fatalf("EC with PKCS#1: %s", code(r))
	}
}

func TestSoftHSMSignBatch(t *testing.T) {
	h, _ := softHarness(t, "")
	res := h.pickHolder("TRẦN THỊ BÌNH")
	cert := parseB64Cert(t, res.Certificate)
	var hashes []string
	var sums [][32]byte
	for i := 0; i < 100; i++ {
		s := sha256.Sum256([]byte(fmt.Sprintf("văn bản %d", i)))
		sums = append(sums, s)
		hashes = append(hashes, base64.StdEncoding.EncodeToString(s[:]))
	}
	h.pr.OnPIN(prompttest.PIN(testenv.PIN))
	r := h.call(portal, "signBatch", map[string]any{"certificateId": res.CertificateID, "hashes": hashes,
		"hashFunction": "SHA-256", "description": "Ký 100 văn bản"})
	if code(r) != "OK" {
		t.Fatalf("signBatch: %v", r.Error)
	}
	var br signBatchResult
	json.Unmarshal(r.Result, &br)
	if len(br.Signatures) != 100 || h.pr.Count("pin") != 1 || h.pr.PINCalls()[0].Count != 100 {
		t.Fatalf("%d signatures, %d PIN dialogs", len(br.Signatures), h.pr.Count("pin"))
	}
	pub := cert.PublicKey.(*ecdsa.PublicKey)
	for i, s := range br.Signatures {
		der, _ := base64.StdEncoding.DecodeString(s)
		if !ecdsa.VerifyASN1(pub, sums[i][:], der) {
			t.Fatalf("signature %d does not verify", i)
		}
		if i == 0 || i == 99 {
			opensslVerify(t, cert, sums[i][:], der, "sha256", false)
		}
	}
}

func TestSoftHSMWrongPIN(t *testing.T) {
	h, _ := softHarness(t, "")
	res := h.pickHolder("NGUYỄN VĂN AN")
	doc := sha256.Sum256([]byte("x"))
	h.pr.OnPIN(prompttest.PIN("999999"), prompttest.PIN(testenv.PIN))
	r := h.call(portal, "sign", map[string]any{"certificateId": res.CertificateID,
		"hash": base64.StdEncoding.EncodeToString(doc[:]), "hashFunction": "SHA-256"})
	if code(r) != "OK" {
		t.Fatalf("sign: %v", r.Error)
	}
	pins := h.pr.PINCalls()
	if len(pins) != 2 || pins[0].Retry || !pins[1].Retry {
		t.Fatalf("PIN dialogs %+v", pins)
	}
	// Cancelling the retried dialog ends it: no automatic retry.
	h.pr.OnPIN(prompttest.PIN("999999"), prompttest.Cancel())
	r = h.call(portal, "sign", map[string]any{"certificateId": res.CertificateID,
		"hash": base64.StdEncoding.EncodeToString(doc[:]), "hashFunction": "SHA-256"})
	if code(r) != "USER_CANCELLED" || h.pr.Count("pin") != 4 {
		t.Fatalf("cancel after a wrong PIN: %s, %d dialogs", code(r), h.pr.Count("pin"))
	}
}

func TestSoftHSMPINCache(t *testing.T) {
	for _, seconds := range []int{0, 600} {
		t.Run(fmt.Sprint(seconds), func(t *testing.T) {
			h, _ := softHarness(t, fmt.Sprintf(`{"pinCacheSeconds": %d}`, seconds))
			res := h.pickHolder("TRẦN THỊ BÌNH")
			cert := parseB64Cert(t, res.Certificate)
			h.pr.Always("pin", prompttest.PIN(testenv.PIN)).Always("confirm", prompttest.Sign())
			for i := 0; i < 3; i++ {
				doc := sha256.Sum256([]byte{byte(i)})
				r := h.call(portal, "sign", map[string]any{"certificateId": res.CertificateID,
					"hash": base64.StdEncoding.EncodeToString(doc[:]), "hashFunction": "SHA-256"})
				if code(r) != "OK" {
					t.Fatalf("sign %d: %v", i, r.Error)
				}
				var sr signResult
				json.Unmarshal(r.Result, &sr)
				der, _ := base64.StdEncoding.DecodeString(sr.Signature)
				if !ecdsa.VerifyASN1(cert.PublicKey.(*ecdsa.PublicKey), doc[:], der) {
					t.Fatalf("signature %d does not verify", i)
				}
			}
			// The kept login only skips typing: each signing operation is
			// confirmed.
			want, confirm := 3, 0
			if seconds > 0 {
				want, confirm = 1, 2
			}
			if got, c := h.pr.Count("pin"), h.pr.Count("confirm"); got != want || c != confirm {
				t.Fatalf("pinCacheSeconds %d: %d PIN dialogs, %d confirmations; want %d, %d", seconds, got, c, want, confirm)
			}
			// The token is logged out at the end of the test either way.
			h.clock.Add(601e9)
			h.pr.OnPIN(prompttest.Cancel())
			doc := sha256.Sum256([]byte("end"))
			h.call(portal, "sign", map[string]any{"certificateId": res.CertificateID,
				"hash": base64.StdEncoding.EncodeToString(doc[:]), "hashFunction": "SHA-256"})
		})
	}
}
