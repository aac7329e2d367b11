// Package portal is the Kyso demo portal: a Vietnamese online public-service
// form ("Nộp hồ sơ trực tuyến"), a batch-signing page, a PDF page ("Ký văn
// bản PDF", kyso.signPdf) and an e-invoice page ("Ký hóa đơn điện tử",
// kyso.signXml) that use kyso.js to have the user's token sign, and a
// server that recomputes what was signed and verifies each signature (Go
// crypto; xmlsec1 for the signed XML). It exists to show portal
// developers the whole path and to drive the end-to-end tests.
package portal

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

//go:embed static
var staticFS embed.FS

// The pages are templates/layout.html around one templates/<page>.html each,
// kept outside static/ so they are never served unrendered.
//
//go:embed templates
var templateFS embed.FS

// pageInfo is one page of the portal. Title is its menu entry, its <title>
// and its <h1>; Script is its module under /static/; file defines its
// "main" content (and may redefine the layout's "huong-dan" steps).
type pageInfo struct {
	Path, Title, Script, file string
}

// pages lists the portal's pages in menu order.
var pages = []pageInfo{
	{"/", "Nộp hồ sơ trực tuyến", "form.js", "index.html"},
	{"/ky-hang-loat", "Ký hàng loạt", "batch.js", "batch.html"},
	{"/ky-van-ban-pdf", "Ký văn bản PDF", "pdf.js", "pdf.html"},
	{"/ky-hoa-don", "Ký hóa đơn điện tử", "invoice.js", "invoice.html"},
}

// FormHeader and BatchHeader open the canonical texts; a signature made for
// one kind of document can never pass as the other.
const (
	FormHeader  = "KYSO-DEMO/HO-SO/1"
	BatchHeader = "KYSO-DEMO/VAN-BAN/1"
	maxUpload   = 10 << 20
	maxBatch    = 1000
)

// Options configures the portal.
type Options struct {
	KysoJS string // path of the built page library (extension/kyso-js/dist/kyso.mjs), served as /kyso.js
	Log    zerolog.Logger
	Now    func() time.Time // tests pin the clock; nil means time.Now
}

type server struct {
	o Options
}

// New returns the portal's handler.
func New(o Options) http.Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &server{o: o}
	sub, _ := fs.Sub(staticFS, "static")
	files := http.FileServer(http.FS(sub))
	mux := http.NewServeMux()
	for _, p := range pages {
		pattern := "GET " + p.Path
		if p.Path == "/" {
			pattern += "{$}"
		}
		mux.HandleFunc(pattern, s.page(renderPage(p)))
	}
	mux.Handle("GET /static/", http.StripPrefix("/static/", files))
	mux.HandleFunc("GET /kyso.js", s.kysoJS)
	mux.HandleFunc("POST /api/ho-so", s.submit)
	mux.HandleFunc("GET /api/lo-van-ban", s.batchDocs)
	mux.HandleFunc("POST /api/ky-hang-loat", s.batchVerify)
	mux.HandleFunc("GET /api/pdf-mau", s.samplePDF)
	mux.HandleFunc("POST /api/kiem-tra-pdf", s.verifyPDF)
	mux.HandleFunc("POST /api/kiem-tra-hoa-don", s.verifyInvoice)
	return headers(mux)
}

// headers adds the security headers a portal should send. The CSP lets the
// page reach the Kyso agent's loopback WebSocket (any port: it is
// configurable) and nothing else outside the portal.
func headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy",
			"default-src 'self'; connect-src 'self' ws://127.0.0.1:* ws://localhost:*; img-src 'self' data:; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

// renderPage renders page p in the layout once, at New: the pages depend
// on nothing but the pages table. The templates are embedded, so an error
// here is a bug in them and stops the portal at start-up, where the tests
// see it.
func renderPage(p pageInfo) []byte {
	t := template.Must(template.ParseFS(templateFS, "templates/layout.html", "templates/"+p.file))
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout.html", struct {
		pageInfo
		Menu []pageInfo
	}{p, pages}); err != nil {
		panic(fmt.Sprintf("demo portal: page %s: %v", p.file, err))
	}
	return b.Bytes()
}

func (s *server) page(body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(body)
	}
}

// kysoJS serves the page library from the repository so the demo always
// runs the library being developed, not a stale copy.
func (s *server) kysoJS(w http.ResponseWriter, r *http.Request) {
	b, err := os.ReadFile(s.o.KysoJS)
	if err != nil {
		s.o.Log.Error().Err(err).Msg("kyso.js not readable")
		http.Error(w, "kyso.js not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

// Result is the verification answer the page shows.
type Result struct {
	Valid        bool        `json:"valid"`
	Reason       string      `json:"reason,omitempty"`
	Hash         string      `json:"hash,omitempty"` // hex, recomputed by the server
	HashFunction string      `json:"hashFunction,omitempty"`
	Scheme       string      `json:"scheme,omitempty"`
	Signer       *CertInfo   `json:"signer,omitempty"`
	Chain        ChainResult `json:"chain"`
	Receipt      string      `json:"receipt,omitempty"` // mã hồ sơ when valid
	// batch only
	Total    int            `json:"total,omitempty"`
	Verified int            `json:"verified,omitempty"`
	Failures []BatchFailure `json:"failures,omitempty"`
}

// BatchFailure names one document whose signature did not verify.
type BatchFailure struct {
	Index  int    `json:"index"`
	Reason string `json:"reason"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// FormFields lists the form's fields in canonical order. The file is
// represented by its name, size and SHA-256, appended after these.
var FormFields = []string{"thuTuc", "hoTen", "cccd", "diaChi", "nganhNghe"}

var cccdRE = regexp.MustCompile(`^[0-9]{12}$`)

// submit receives a signed form: the fields, the file, the signature and
// the certificate (with the token's CA chain), recomputes the canonical
// hash from what arrived and verifies.
func (s *server) submit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload+1<<20)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		writeJSON(w, http.StatusBadRequest, Result{Reason: "hồ sơ không đọc được (quá lớn hoặc sai định dạng): " + err.Error()})
		return
	}
	defer r.MultipartForm.RemoveAll()
	var fields [][2]string
	for _, name := range FormFields {
		fields = append(fields, [2]string{name, r.FormValue(name)})
	}
	if strings.TrimSpace(r.FormValue("hoTen")) == "" {
		writeJSON(w, http.StatusBadRequest, Result{Reason: "thiếu họ và tên"})
		return
	}
	if !cccdRE.MatchString(r.FormValue("cccd")) {
		writeJSON(w, http.StatusBadRequest, Result{Reason: "số CCCD phải gồm 12 chữ số"})
		return
	}
	f, fh, err := r.FormFile("tep")
	if err != nil {
		writeJSON(w, http.StatusBadRequest, Result{Reason: "thiếu tệp đính kèm"})
		return
	}
	hf := sha256.New()
	n, err := io.Copy(hf, f)
	f.Close()
	if err != nil {
		writeJSON(w, http.StatusBadRequest, Result{Reason: "không đọc được tệp đính kèm"})
		return
	}
	fields = append(fields,
		[2]string{"tenTep", fh.Filename},
		[2]string{"kichThuocTep", strconv.FormatInt(n, 10)},
		[2]string{"sha256Tep", hex.EncodeToString(hf.Sum(nil))})
	canon := Canonical(FormHeader, fields)

	res := s.verify(canon, r.FormValue("hashFunction"), r.FormValue("scheme"),
		r.FormValue("signature"), r.FormValue("certificate"), r.Form["chain"])
	if res.Valid {
		res.Receipt = receipt(s.o.Now())
	}
	s.o.Log.Info().Bool("valid", res.Valid).Str("reason", res.Reason).
		Str("hash", trunc(res.Hash)).Msg("hồ sơ")
	writeJSON(w, http.StatusOK, res)
}

// verify checks one signature over data and fills the result.
func (s *server) verify(data []byte, hashName, scheme, sigB64, certB64 string, chainB64 []string) Result {
	res := Result{HashFunction: hashName, Scheme: scheme}
	h, err := hashFor(hashName)
	if err != nil {
		res.Reason = err.Error()
		return res
	}
	dig := digest(h, data)
	res.Hash = hex.EncodeToString(dig)
	cert, chain, err := parseCerts(certB64, chainB64)
	if err != nil {
		res.Reason = err.Error()
		return res
	}
	info := certInfo(cert)
	res.Signer = &info
	now := s.o.Now()
	res.Chain = checkChain(cert, chain, now)
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil || len(sig) == 0 {
		res.Reason = "thiếu chữ ký hoặc không phải base64"
		return res
	}
	if err := VerifyDigest(cert, scheme, h, dig, sig); err != nil {
		res.Reason = err.Error()
		return res
	}
	if err := checkCert(cert, now); err != nil {
		res.Reason = err.Error()
		return res
	}
	if res.Chain.Checked && !res.Chain.OK {
		res.Reason = res.Chain.Reason
		return res
	}
	res.Valid = true
	return res
}

// receipt makes a case number (mã hồ sơ) for an accepted submission.
func receipt(now time.Time) string {
	var b [3]byte
	rand.Read(b[:])
	return fmt.Sprintf("HS-%s-%s", now.Format("20060102"), strings.ToUpper(hex.EncodeToString(b[:])))
}

// Document is one generated document of a batch.
type Document struct {
	Number  string `json:"number"`
	Title   string `json:"title"`
	Content string `json:"content"` // the page hashes these UTF-8 bytes
}

// Documents generates batch batchID's n documents. They are derived from the
// batch id alone, so the server regenerates what the page signed instead of
// trusting the page's copy.
func Documents(batchID string, n int) []Document {
	kinds := []string{"Giấy xác nhận cư trú", "Quyết định cấp phép xây dựng", "Giấy chứng nhận đăng ký hộ kinh doanh", "Văn bản trả lời kiến nghị", "Thông báo kết quả giải quyết hồ sơ"}
	names := []string{"Trần Thị Bích", "Lê Văn Đức", "Phạm Ngọc Ánh", "Hoàng Minh Tuấn", "Võ Thị Hồng Nhung", "Đặng Quốc Việt"}
	docs := make([]Document, n)
	for i := range docs {
		num := fmt.Sprintf("%03d/QĐ-UBND", i+1)
		kind := kinds[i%len(kinds)]
		who := names[i%len(names)]
		docs[i] = Document{
			Number: num,
			Title:  kind + " — " + who,
			Content: string(Canonical(BatchHeader, [][2]string{
				{"lo", batchID},
				{"so", num},
				{"loai", kind},
				{"nguoiNhan", who},
				{"noiDung", fmt.Sprintf("Ủy ban nhân dân phường Bến Nghé xác nhận hồ sơ số %d của công dân %s đã được giải quyết đúng hạn.", i+1, who)},
			})),
		}
	}
	return docs
}

var batchIDRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

func (s *server) batchDocs(w http.ResponseWriter, r *http.Request) {
	n := 100
	if q := r.URL.Query().Get("n"); q != "" {
		v, err := strconv.Atoi(q)
		if err != nil || v < 1 || v > maxBatch {
			writeJSON(w, http.StatusBadRequest, Result{Reason: fmt.Sprintf("số văn bản phải từ 1 đến %d", maxBatch)})
			return
		}
		n = v
	}
	var b [16]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	writeJSON(w, http.StatusOK, map[string]any{"batchId": id, "documents": Documents(id, n)})
}

// BatchRequest is what the batch page posts after kyso.signBatch.
type BatchRequest struct {
	BatchID      string   `json:"batchId"`
	Count        int      `json:"count"`
	HashFunction string   `json:"hashFunction"`
	Scheme       string   `json:"scheme"`
	Certificate  string   `json:"certificate"`
	Chain        []string `json:"chain"`
	Signatures   []string `json:"signatures"`
}

func (s *server) batchVerify(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<20)
	var req BatchRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, Result{Reason: "yêu cầu không đọc được: " + err.Error()})
		return
	}
	res := s.verifyBatch(req)
	s.o.Log.Info().Bool("valid", res.Valid).Int("verified", res.Verified).Int("total", res.Total).
		Str("reason", res.Reason).Msg("ký hàng loạt")
	writeJSON(w, http.StatusOK, res)
}

func (s *server) verifyBatch(req BatchRequest) Result {
	if !batchIDRE.MatchString(req.BatchID) || req.Count < 1 || req.Count > maxBatch {
		return Result{Reason: "mã lô hoặc số văn bản không hợp lệ"}
	}
	if len(req.Signatures) != req.Count {
		return Result{Total: req.Count, Reason: fmt.Sprintf("có %d chữ ký cho %d văn bản", len(req.Signatures), req.Count)}
	}
	docs := Documents(req.BatchID, req.Count)
	var res Result
	for i, d := range docs {
		one := s.verify([]byte(d.Content), req.HashFunction, req.Scheme, req.Signatures[i], req.Certificate, req.Chain)
		if i == 0 {
			res = one
			res.Hash, res.Valid, res.Reason = "", false, ""
		}
		if one.Valid {
			res.Verified++
		} else {
			res.Failures = append(res.Failures, BatchFailure{Index: i, Reason: one.Reason})
		}
	}
	res.Total = req.Count
	res.Valid = res.Verified == res.Total
	if !res.Valid {
		res.Reason = fmt.Sprintf("%d/%d chữ ký không hợp lệ; văn bản %d: %s",
			len(res.Failures), res.Total, res.Failures[0].Index+1, res.Failures[0].Reason)
	}
	return res
}

// trunc shortens a hex value for a log line.
func trunc(s string) string {
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}
