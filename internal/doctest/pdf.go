package doctest

import (
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"kyso.vn/kyso/document/cms"
)

// QPDF runs qpdf with args; unless strict, its exit code 3 (warnings) is
// success.
func QPDF(strict bool, args ...string) error {
	out, err := exec.Command("qpdf", args...).CombinedOutput()
	var ee *exec.ExitError
	if !strict && errors.As(err, &ee) && ee.ExitCode() == 3 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("qpdf %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

var rangeRE = regexp.MustCompile(`Signed Ranges: \[(\d+) - (\d+)\], \[(\d+) - (\d+)\]`)

// Verified is what VerifyPDF found of one signature.
type Verified struct {
	Fields map[string]string // pdfsig's "- Key: value" lines
	Signed *cms.Signed       // Kyso's signatures: what cms.Verify found
}

// VerifyPDF checks a signed PDF with independent tools and returns, per
// signature, what they saw:
//   - pdfsig (poppler): every signature valid, the last covering the whole
//     file, all of type ETSI.CAdES.detached unless other is set;
//   - qpdf --check: no error;
//   - openssl cms -verify of each CMS (dumped by pdfsig) over the bytes of
//     its ByteRange (as pdfsig reports it), with the chain from the CMS and
//     only root trusted;
//   - Go: cms.Verify of the same, and that PAdES's rules hold (no
//     signing-time attribute, signing-certificate-v2 present).
//
// others is how many of the signatures were not made by Kyso.
func VerifyPDF(t testing.TB, signed []byte, root *x509.Certificate, want, others int) []Verified {
	t.Helper()
	dir := t.TempDir()
	f := filepath.Join(dir, "signed.pdf")
	if err := os.WriteFile(f, signed, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := QPDF(true, "--check", f); err != nil {
		t.Fatalf("qpdf --check: %v", err)
	}
	out, err := exec.Command("pdfsig", "-nocert", f).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfsig: %v\n%s", err, out)
	}
	dump := exec.Command("pdfsig", "-nocert", "-dump", f)
	dump.Dir = dir
	if o, err := dump.CombinedOutput(); err != nil {
		t.Fatalf("pdfsig -dump: %v\n%s", err, o)
	}
	blocks := strings.Split(string(out), "Signature #")[1:]
	if len(blocks) != want {
		t.Fatalf("pdfsig sees %d signatures, want %d:\n%s", len(blocks), want, out)
	}
	rootPEM := WritePEM(t, dir, "root.pem", root)
	var res []Verified
	for i, blk := range blocks {
		v := Verified{Fields: map[string]string{}}
		for _, l := range strings.Split(blk, "\n") {
			if k, val, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(l), "- "), ": "); ok {
				v.Fields[k] = val
			}
		}
		if v.Fields["Signature Validation"] != "Signature is Valid." {
			t.Errorf("signature %d: pdfsig: %q\n%s", i+1, v.Fields["Signature Validation"], out)
		}
		last := i == len(blocks)-1
		if last != strings.Contains(blk, "Total document signed") {
			t.Errorf("signature %d: whole document signed %v, want %v", i+1, !last, last)
		}
		m := rangeRE.FindStringSubmatch(blk)
		if m == nil {
			t.Fatalf("signature %d: no ranges in pdfsig's output", i+1)
		}
		var r [4]int
		for j := range r {
			r[j], _ = strconv.Atoi(m[j+1])
		}
		if r[0] != 0 || r[3] > len(signed) || r[2] < r[1] {
			t.Fatalf("signature %d: ranges %v", i+1, r)
		}
		content := append(append([]byte{}, signed[r[0]:r[1]]...), signed[r[2]:r[3]]...)
		sigFile := filepath.Join(dir, fmt.Sprintf("signed.pdf.sig%d", i))
		der, err := os.ReadFile(sigFile)
		if err != nil {
			t.Fatalf("signature %d: pdfsig -dump: %v", i+1, err)
		}
		if i >= others {
			if v.Fields["Signature Type"] != "ETSI.CAdES.detached" {
				t.Errorf("signature %d: type %q", i+1, v.Fields["Signature Type"])
			}
			cf := filepath.Join(dir, fmt.Sprintf("content%d.bin", i))
			os.WriteFile(cf, content, 0o600)
			o, err := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", sigFile,
				"-content", cf, "-CAfile", rootPEM, "-purpose", "any", "-out", os.DevNull).CombinedOutput()
			if err != nil || !strings.Contains(string(o), "Verification successful") {
				t.Errorf("signature %d: openssl cms -verify: %v\n%s", i+1, err, o)
			}
			// pdfsig dumps the whole /Contents (padded with zeros): the DER
			// is its first element.
			der = TrimDER(der)
			sum := sha256.Sum256(content)
			v.Signed, err = cms.Verify(der, sum[:])
			if err != nil {
				t.Errorf("signature %d: cms.Verify: %v", i+1, err)
			} else if !v.Signed.SigningTime.IsZero() || !v.Signed.SigningCertificateV2 {
				t.Errorf("signature %d: signing-time %v, signing-certificate-v2 %v: not PAdES", i+1, v.Signed.SigningTime, v.Signed.SigningCertificateV2)
			}
		}
		res = append(res, v)
	}
	return res
}

// TrimDER cuts b to its first DER element.
func TrimDER(b []byte) []byte {
	if len(b) < 2 {
		return b
	}
	n, l := int(b[1]), 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k > 4 || len(b) < 2+k {
			return b
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		l += k
	}
	if l+n > len(b) {
		return b
	}
	return b[:l+n]
}
