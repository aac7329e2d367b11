package portal

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/big"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// pki is a CA and one signer certificate made with Go crypto, standing in
// for a token's certificate in these server-side tests.
type pki struct {
	ca, leaf *x509.Certificate
	key      crypto.Signer
}

func newPKI(t *testing.T, key crypto.Signer, notBefore, notAfter time.Time, ku x509.KeyUsage) pki {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Kyso Test CA", Organization: []string{"Kyso Thử Nghiệm"}},
		NotBefore: time.Now().Add(-10 * 365 * 24 * time.Hour), NotAfter: time.Now().Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(0x1001), Subject: pkix.Name{CommonName: "NGUYỄN VĂN AN", Country: []string{"VN"}},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: ku,
	}
	der, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return pki{ca: ca, leaf: leaf, key: key}
}

func rsaKey(t *testing.T) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func valid(t *testing.T, key crypto.Signer) pki {
	return newPKI(t, key, time.Now().Add(-time.Hour), time.Now().Add(365*24*time.Hour),
		x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment)
}

// sign signs data's SHA-256 the way the token does for scheme.
func (p pki) sign(t *testing.T, scheme string, data []byte) string {
	t.Helper()
	d := sha256.Sum256(data)
	var opts crypto.SignerOpts = crypto.SHA256
	if scheme == "RSASSA-PSS" {
		opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
	}
	sig, err := p.key.Sign(rand.Reader, d[:], opts)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func b64(der []byte) string { return base64.StdEncoding.EncodeToString(der) }

func newServer(t *testing.T) *httptest.Server {
	js := filepath.Join(t.TempDir(), "kyso.js")
	os.WriteFile(js, []byte("export const kyso = {};\n"), 0o644)
	srv := httptest.NewServer(New(Options{KysoJS: js, Log: zerolog.Nop()}))
	t.Cleanup(srv.Close)
	return srv
}

var fileBody = []byte("Giấy đề nghị đăng ký hộ kinh doanh\n")

var formValues = map[string]string{
	"thuTuc": "Đăng ký hộ kinh doanh", "hoTen": "Nguyễn Văn An", "cccd": "001090012345",
	"diaChi": "Số 1 phố Tràng Tiền, Hà Nội", "nganhNghe": "Bán lẻ",
}

// formCanonical is what the page hashes for formValues and fileBody.
func formCanonical() []byte {
	var f [][2]string
	for _, n := range FormFields {
		f = append(f, [2]string{n, formValues[n]})
	}
	fh := sha256.Sum256(fileBody)
	f = append(f, [2]string{"tenTep", "giấy đề nghị.txt"}, [2]string{"kichThuocTep", strconv.Itoa(len(fileBody))},
		[2]string{"sha256Tep", hex.EncodeToString(fh[:])})
	return Canonical(FormHeader, f)
}

func postForm(t *testing.T, srv *httptest.Server, override map[string]string, sig, scheme string, p pki, chain bool) Result {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range formValues {
		if o, ok := override[k]; ok {
			v = o
		}
		mw.WriteField(k, v)
	}
	mw.WriteField("tenTep", "giấy đề nghị.txt")
	fw, _ := mw.CreateFormFile("tep", "giấy đề nghị.txt")
	fw.Write(fileBody)
	mw.WriteField("signature", sig)
	mw.WriteField("scheme", scheme)
	mw.WriteField("hashFunction", "SHA-256")
	mw.WriteField("certificate", b64(p.leaf.Raw))
	if chain {
		mw.WriteField("chain", b64(p.ca.Raw))
	}
	mw.Close()
	resp, err := http.Post(srv.URL+"/api/ho-so", mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res Result
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

func TestFormSignatureSchemes(t *testing.T) {
	srv := newServer(t)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rk := rsaKey(t)
	for _, tc := range []struct {
		scheme string
		key    crypto.Signer
	}{{"RSASSA-PKCS1-v1_5", rk}, {"", rk}, {"RSASSA-PSS", rk}, {"ECDSA", ec}} {
		t.Run(tc.scheme, func(t *testing.T) {
			p := valid(t, tc.key)
			sig := p.sign(t, tc.scheme, formCanonical())
			res := postForm(t, srv, nil, sig, tc.scheme, p, true)
			if !res.Valid {
				t.Fatalf("not valid: %s", res.Reason)
			}
			if res.Signer.Holder != "NGUYỄN VĂN AN" || !res.Chain.OK || !strings.HasPrefix(res.Receipt, "HS-") {
				t.Fatalf("result: %+v", res)
			}
			want := sha256.Sum256(formCanonical())
			if res.Hash != hex.EncodeToString(want[:]) {
				t.Fatalf("hash %s", res.Hash)
			}
		})
	}
}

func TestFormRejects(t *testing.T) {
	srv := newServer(t)
	rk := rsaKey(t)
	p := valid(t, rk)
	sig := p.sign(t, "RSASSA-PKCS1-v1_5", formCanonical())

	// A field changed after signing.
	res := postForm(t, srv, map[string]string{"diaChi": "Số 2 phố Tràng Tiền, Hà Nội"}, sig, "RSASSA-PKCS1-v1_5", p, true)
	if res.Valid || !strings.Contains(res.Reason, "không khớp") {
		t.Fatalf("tampered field accepted: %+v", res)
	}
	// The right signature under the wrong scheme.
	if res := postForm(t, srv, nil, sig, "RSASSA-PSS", p, true); res.Valid {
		t.Fatal("PKCS#1 signature accepted as PSS")
	}
	// A certificate of another key.
	other := valid(t, rsaKey(t))
	other.key = rk
	if res := postForm(t, srv, nil, sig, "RSASSA-PKCS1-v1_5", other, true); res.Valid {
		t.Fatal("signature accepted under another key's certificate")
	}
	// Expired.
	old := newPKI(t, rk, time.Now().Add(-3*365*24*time.Hour), time.Now().Add(-365*24*time.Hour), x509.KeyUsageDigitalSignature)
	res = postForm(t, srv, nil, old.sign(t, "", formCanonical()), "", old, true)
	if res.Valid || !strings.Contains(res.Reason, "hết hạn") {
		t.Fatalf("expired certificate: %+v", res)
	}
	// Not a signing key.
	enc := newPKI(t, rk, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), x509.KeyUsageKeyEncipherment)
	res = postForm(t, srv, nil, enc.sign(t, "", formCanonical()), "", enc, true)
	if res.Valid || !strings.Contains(res.Reason, "quyền ký") {
		t.Fatalf("encryption certificate: %+v", res)
	}
	// A chain from another CA.
	foreign := valid(t, rk)
	foreign.ca = other.ca
	res = postForm(t, srv, nil, sig, "", foreign, true)
	if res.Valid || res.Chain.OK {
		t.Fatalf("foreign chain accepted: %+v", res)
	}
	// No chain: the signature is valid, the chain is not checked.
	res = postForm(t, srv, nil, sig, "", p, false)
	if !res.Valid || res.Chain.Checked {
		t.Fatalf("no chain: %+v", res)
	}
	// Bad CCCD.
	res = postForm(t, srv, map[string]string{"cccd": "12ab"}, sig, "", p, true)
	if res.Valid || !strings.Contains(res.Reason, "CCCD") {
		t.Fatalf("bad CCCD: %+v", res)
	}
}

func TestBatch(t *testing.T) {
	srv := newServer(t)
	resp, err := http.Get(srv.URL + "/api/lo-van-ban?n=100")
	if err != nil {
		t.Fatal(err)
	}
	var lot struct {
		BatchID   string     `json:"batchId"`
		Documents []Document `json:"documents"`
	}
	json.NewDecoder(resp.Body).Decode(&lot)
	resp.Body.Close()
	if len(lot.Documents) != 100 {
		t.Fatalf("%d documents", len(lot.Documents))
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p := valid(t, ec)
	req := BatchRequest{BatchID: lot.BatchID, Count: 100, HashFunction: "SHA-256", Scheme: "ECDSA",
		Certificate: b64(p.leaf.Raw), Chain: []string{b64(p.ca.Raw)}}
	for _, d := range lot.Documents {
		req.Signatures = append(req.Signatures, p.sign(t, "ECDSA", []byte(d.Content)))
	}
	post := func(r BatchRequest) Result {
		b, _ := json.Marshal(r)
		resp, err := http.Post(srv.URL+"/api/ky-hang-loat", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var res Result
		json.NewDecoder(resp.Body).Decode(&res)
		return res
	}
	if res := post(req); !res.Valid || res.Verified != 100 || res.Total != 100 {
		t.Fatalf("batch: %+v", res)
	}
	// Two signatures swapped: both documents fail, by index.
	req.Signatures[3], req.Signatures[4] = req.Signatures[4], req.Signatures[3]
	res := post(req)
	if res.Valid || res.Verified != 98 || len(res.Failures) != 2 || res.Failures[0].Index != 3 {
		t.Fatalf("swapped: %+v", res)
	}
	// Signatures for another batch id.
	req.Signatures[3], req.Signatures[4] = req.Signatures[4], req.Signatures[3]
	req.BatchID = strings.Repeat("0", 32)
	if res := post(req); res.Valid || res.Verified != 0 {
		t.Fatalf("other batch: %+v", res)
	}
	req.Signatures = req.Signatures[:10]
	if res := post(req); res.Valid {
		t.Fatal("short batch accepted")
	}
}

func TestPagesAndLibrary(t *testing.T) {
	srv := newServer(t)
	for path, want := range map[string]string{
		"/":                  "Nộp hồ sơ trực tuyến",
		"/ky-hang-loat":      "Ký hàng loạt",
		"/ky-van-ban-pdf":    "Ký văn bản PDF",
		"/ky-hoa-don":        "Ký hóa đơn điện tử",
		"/static/pdf.js":     "signPdfFile",
		"/static/invoice.js": "signXml",
		"/api/pdf-mau":       "%PDF-1.7",
		"/static/common.js":  "export function canonical",
		"/kyso.js":           "export const kyso",
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d %.80q", path, resp.StatusCode, b)
		}
		if resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: no CSP", path)
		}
	}
}

// TestCanonicalMatchesPage runs the page's canonical() (static/common.js)
// under Node and compares its bytes with Canonical: the two must agree or
// every signature fails.
func TestCanonicalMatchesPage(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	js, _ := filepath.Abs("static/common.js")
	fields := [][2]string{{"hoTen", "Nguyễn Văn An"}, {"diaChi", "Số 1: Tràng Tiền\\n"}, {"rong", ""}, {"tenTep", "ảnh 📄.pdf"}}
	in, _ := json.Marshal(fields)
	script := `import { canonical } from ` + "'file://" + js + "'" + `;
process.stdout.write(canonical('` + FormHeader + `', JSON.parse(process.argv[1])));`
	out, err := exec.Command(node, "--input-type=module", "-e", script, string(in)).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	if want := Canonical(FormHeader, fields); !bytes.Equal(out, want) {
		t.Fatalf("page canonical differs:\n%q\n%q", out, want)
	}
}

// TestPagesLayout checks what the shared layout promises each page: its own
// title, heading and script, the menu marking it (and only it) as current,
// the install steps, no inline script (the CSP would block it) and no cache.
func TestPagesLayout(t *testing.T) {
	srv := newServer(t)
	for _, p := range pages {
		resp, err := http.Get(srv.URL + p.Path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		html := string(b)
		for _, want := range []string{
			"<title>" + p.Title + " — ",
			"<h1>" + p.Title + "</h1>",
			`<script type="module" src="/static/` + p.Script + `"></script>`,
			`<a href="` + p.Path + `" aria-current="page">` + p.Title + "</a>",
			`<details id="huong-dan" class="the">`,
			`<footer class="chan-trang">`,
		} {
			if !strings.Contains(html, want) {
				t.Errorf("%s: no %q", p.Path, want)
			}
		}
		if n := strings.Count(html, `aria-current="page"`); n != 1 {
			t.Errorf("%s: %d menu entries marked current", p.Path, n)
		}
		if n, m := strings.Count(html, "<script"), strings.Count(html, `<script type="module" src="/static/`); n != m {
			t.Errorf("%s: %d scripts, %d from /static/", p.Path, n, m)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q", p.Path, cc)
		}
	}
}
