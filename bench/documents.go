package main

// The document operations (issues 13, 14): signPdf of 1, 10 and 30 MiB
// PDFs and signXml of 1 and 10 MiB invoices, each timed from its answered
// PIN dialog to the signed document, against a floor measured in the same
// run with the same bytes: the request through a WebSocket echo, SHA-256
// of the document, and one raw C_Login + C_Sign on the same SoftHSM key
// (the floor process). The agent's peak memory (VmHWM, reset before each
// size through /proc/PID/clear_refs) is read against the document's size.

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/gorilla/websocket"

	"kyso.vn/kyso/document/xmldsig/xmldsigtest"
)

// libtasn1PDF is a real PDF shipped by Debian (libtasn1-doc): the bench's
// large PDFs are copies of it joined by qpdf.
const libtasn1PDF = "/usr/share/doc/libtasn1-doc/libtasn1.pdf"

// documentSizes in MiB; reps per size.
func documentSizes(quick bool) (pdf, xml []int, reps int) {
	if quick {
		return []int{1, 10}, []int{1}, 2
	}
	return []int{1, 10, 30}, []int{1, 10}, 5
}

// documents measures the document operations, each size on a fresh agent
// from start (PIN asked for each operation), against floor fl.
func documents(r *results, c *config, fl *floorProc, start func() (*proc, *wsClient, error), s *scheme, tmp string) error {
	echo, err := startEcho()
	if err != nil {
		return err
	}
	defer echo.Close()
	fc := floorCase{Name: s.Name, Label: s.Label, Scheme: string(s.Scheme)}
	pdfSizes, xmlSizes, reps := documentSizes(c.quick)
	var docs []docCase
	for _, mib := range pdfSizes {
		pdf, err := bigPDF(tmp, mib)
		if err != nil {
			r.note("signPdf was not measured: %v", err)
			break
		}
		docs = append(docs, docCase{fmt.Sprintf("signpdf_%dmib", mib), len(pdf), func(id string) []byte {
			b, _ := json.Marshal(map[string]any{"id": id, "op": "signPdf", "params": map[string]any{
				"certificateId": s.certID, "pdf": pdf, "fileName": "bench.pdf"}})
			return b
		}, pdf})
	}
	for _, mib := range xmlSizes {
		xml := xmldsigtest.Invoice(mib << 20)
		docs = append(docs, docCase{fmt.Sprintf("signxml_%dmib", mib), len(xml), func(id string) []byte {
			b, _ := json.Marshal(map[string]any{"id": id, "op": "signXml", "params": map[string]any{
				"certificateId": s.certID, "xml": string(xml), "fileName": "invoice.xml",
				"reference": xmldsigtest.InvoiceReference, "parent": xmldsigtest.InvoiceParent, "signingTime": true}})
			return b
		}, xml})
	}
	for _, d := range docs {
		logf("%s (%.1f MiB) from the answered PIN dialog against echo + SHA-256 + C_Sign (%d times)", d.key, float64(d.size)/(1<<20), reps)
		ag, ws, err := start()
		if err != nil {
			return err
		}
		// Warm: the module loaded and one signature made, as before a
		// person's first document.
		if _, _, err := fromDialog(ws, ag, signRequest("w", s, randomHashes(1)[0])); err != nil {
			ws.Close()
			ag.stop()
			return err
		}
		time.Sleep(200 * time.Millisecond)
		err = d.measure(r, fl, fc, echo, ag, ws, reps)
		ws.Close()
		ag.stop()
		if err != nil {
			return err
		}
	}
	return nil
}

type docCase struct {
	key  string
	size int // bytes of the document
	req  func(id string) []byte
	sum  []byte // what the floor hashes
}

// measure runs reps requests of d (after one untimed) on a fresh agent.
func (d docCase) measure(r *results, fl *floorProc, fc floorCase, echo *echoServer, ag *proc, ws *wsClient, reps int) error {
	req := d.req("d")
	if err := resetHWM(ag.pid()); err != nil {
		return err
	}
	before, err := rssKiB(ag.pid())
	if err != nil {
		return err
	}
	var kyso, floor []int64
	for i := -1; i < reps; i++ { // i == -1: untimed warm-up of both
		fr, err := fl.do(floorCmd{Case: fc, N: 1, Count: 1, Login: true})
		if err != nil {
			return err
		}
		t0 := time.Now()
		if err := echo.roundTrip(req); err != nil {
			return fmt.Errorf("WebSocket echo: %w", err)
		}
		sha256.Sum256(d.sum)
		floorNS := time.Since(t0).Nanoseconds() + fr.Batch[0]
		raw, ns, err := fromDialog(ws, ag, req)
		if err != nil {
			return fmt.Errorf("%s: %w", d.key, err)
		}
		if resp, err := parseResponse(raw); err != nil || !resp.OK {
			return fmt.Errorf("%s: %v %.300s", d.key, err, raw)
		}
		if i >= 0 {
			kyso, floor = append(kyso, ns), append(floor, floorNS)
		}
	}
	hwm, err := hwmKiB(ag.pid())
	if err != nil {
		return err
	}
	km, fm := summarize(kyso), summarize(floor)
	r.add(d.key+"_floor_ms", fm.Median, "ms")
	r.add(d.key+"_ms", km.Median, "ms")
	r.add(d.key+"_ratio", km.Median/fm.Median, "×")
	r.add(d.key+"_doc_mb", float64(d.size)/1e6, "MB")
	r.add(d.key+"_rss_before_mb", mb(before), "MB")
	r.add(d.key+"_hwm_mb", mb(hwm), "MB")
	// The peak the document added, in documents: the high-water mark
	// over the RSS the agent had before.
	r.add(d.key+"_peak_docs", float64(hwm-before)*1024/float64(d.size), "×")
	return nil
}

// bigPDF is a PDF of about mib MiB: copies of libtasn1.pdf joined by qpdf,
// with object streams (the costlier kind to read), made once per run.
func bigPDF(tmp string, mib int) ([]byte, error) {
	st, err := os.Stat(libtasn1PDF)
	if err != nil {
		return nil, fmt.Errorf("libtasn1-doc is not installed: %w", err)
	}
	dir := filepath.Join(tmp, "pdf")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	out := filepath.Join(dir, fmt.Sprintf("big-%d.pdf", mib))
	args := []string{"--empty", "--object-streams=generate", "--pages"}
	for i := range max(1, int(int64(mib)<<20/st.Size())) {
		// Distinct names, or qpdf shares the copies' objects.
		f := filepath.Join(dir, fmt.Sprintf("c%d.pdf", i))
		if _, err := os.Lstat(f); err != nil {
			if err := os.Symlink(libtasn1PDF, f); err != nil {
				return nil, err
			}
		}
		args = append(args, f)
	}
	args = append(args, "--", out)
	if b, err := exec.Command("qpdf", args...).CombinedOutput(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 3 { // 3: warnings
			return nil, fmt.Errorf("qpdf: %w\n%s", err, b)
		}
	}
	return os.ReadFile(out)
}

// echoServer is the least a WebSocket server does with a document: read
// the message and send the same bytes back.
type echoServer struct {
	srv *http.Server
	c   *websocket.Conn
}

func startEcho() (*echoServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			typ, msg, err := c.ReadMessage()
			if err != nil || c.WriteMessage(typ, msg) != nil {
				return
			}
		}
	})}
	go srv.Serve(ln)
	c, _, err := websocket.DefaultDialer.Dial("ws://"+ln.Addr().String()+"/", nil)
	if err != nil {
		srv.Close()
		return nil, err
	}
	return &echoServer{srv: srv, c: c}, nil
}

func (e *echoServer) roundTrip(msg []byte) error {
	if err := e.c.WriteMessage(websocket.TextMessage, msg); err != nil {
		return err
	}
	_, back, err := e.c.ReadMessage()
	if err == nil && len(back) != len(msg) {
		err = fmt.Errorf("echoed %d bytes of %d", len(back), len(msg))
	}
	return err
}

func (e *echoServer) Close() { e.c.Close(); e.srv.Close() }

// resetHWM resets pid's VmHWM to its current RSS (Linux: clear_refs 5).
func resetHWM(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// hwmKiB reads VmHWM (peak resident memory since the last reset, KiB).
func hwmKiB(pid int) (int64, error) { return statusKiB(pid, "VmHWM:") }
