// Command kyso-bench measures Kyso against its floors: each figure is taken
// with the floor it is compared to in the same run, on the same machine and
// the same SoftHSM2 tokens (provisioned afresh by testdata/provision.sh).
// `make bench` builds the binaries and runs it; it writes bench/results.json,
// docs/benchmarks.md and the batch plot. See docs/benchmarks.md for what is
// measured, how, and why that way.
//
// Usage (the Makefile passes these):
//
//	kyso-bench -kyso bin/kyso -agentbench bin/bench/agentbench -minhost bin/bench/minhost \
//	  -json bench/results.json -doc docs/benchmarks.md -svg docs/benchmarks-batch.svg [-quick]
package main

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"kyso.vn/kyso/internal/testenv"
	"kyso.vn/kyso/token"
)

// extOrigin is argv[1] a browser gives the host: the Kyso extension's id.
const extOrigin = "chrome-extension://iglbldmcmaeofmnfneeicieiklknbhdi/"

// sizes of one run; -quick shrinks them for a smoke test.
type sizes struct {
	Single     int         // signatures per scheme and path (≥ 1000 in a full run)
	Warmup     int         // untimed calls before each series
	BatchReps  map[int]int // batch size → repetitions
	SlowReps   int         // repetitions on the slow token (signBatch of slowBatch, and single signs)
	Version    int         // version calls per latency series
	ColdStarts int         // process starts per program
	Idle       time.Duration
	Conns      int
	Signatures int // the agent has made at least this many when RSS is read
}

var full = sizes{
	Single: 1000, Warmup: 50,
	BatchReps: map[int]int{1: 200, 10: 100, 100: 20, 1000: 9}, SlowReps: 5,
	Version: 1000, ColdStarts: 40, Idle: 60 * time.Second, Conns: 500, Signatures: 10000,
}

var quick = sizes{
	Single: 100, Warmup: 10,
	BatchReps: map[int]int{1: 20, 10: 10, 100: 3, 1000: 1}, SlowReps: 2,
	Version: 200, ColdStarts: 8, Idle: 5 * time.Second, Conns: 500, Signatures: 1000,
}

var batchSizes = []int{1, 10, 100, 1000}

// scheme is one key and signature scheme measured.
type scheme struct {
	Name   string // figure key part
	Title  string
	Label  string // token label
	Cert   string // certificate file name (testenv.Cert*)
	Scheme token.Scheme
	certID string
	cert   *x509.Certificate
}

var schemes = []*scheme{
	{Name: "rsa2048_pkcs1", Title: "RSA-2048 PKCS#1 v1.5", Label: testenv.LabelRSA, Cert: testenv.CertRSA, Scheme: token.PKCS1v15},
	{Name: "rsa2048_pss", Title: "RSA-2048 PSS", Label: testenv.LabelRSA, Cert: testenv.CertRSA, Scheme: token.PSS},
	{Name: "ec256", Title: "ECDSA P-256", Label: testenv.LabelEC, Cert: testenv.CertEC, Scheme: token.ECDSA},
}

type config struct {
	kyso, agentbench, minhost string
	fault                     string // the fault module (testdata/faultp11): a slow token
	jsonOut, docOut, svgOut   string
	quick, profile, keep      bool
	sz                        sizes
}

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "floor":
			floorMain()
			return
		case "layers":
			layersMain()
			return
		}
	}
	var c config
	flag.StringVar(&c.kyso, "kyso", "bin/kyso", "the kyso binary (for `kyso host` and `kyso serve`)")
	flag.StringVar(&c.agentbench, "agentbench", "bin/bench/agentbench", "the bench agent binary (bench/agentbench)")
	flag.StringVar(&c.minhost, "minhost", "bin/bench/minhost", "the minimal host binary (bench/minhost)")
	flag.StringVar(&c.fault, "fault", "bin/libkysofault.so", "the fault module, for a token that signs slowly (\"\": skip)")
	flag.StringVar(&c.jsonOut, "json", "bench/results.json", "where to write the figures")
	flag.StringVar(&c.docOut, "doc", "docs/benchmarks.md", "where to write the report")
	flag.StringVar(&c.svgOut, "svg", "docs/benchmarks-batch.svg", "where to write the batch plot")
	flag.BoolVar(&c.quick, "quick", false, "a fast smoke run (fewer samples, short idle)")
	flag.BoolVar(&c.profile, "profile", false, "write a CPU profile of the agent to bin/bench/agent.pprof")
	flag.BoolVar(&c.keep, "keep", false, "keep the temp dir (tokens, logs) for a look afterwards")
	flag.Parse()
	c.sz = full
	if c.quick {
		c.sz = quick
	}
	start := time.Now()
	r, err := run(&c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kyso-bench:", err)
		os.Exit(1)
	}
	r.meta["duration"] = time.Since(start).Round(time.Second).String()
	if err := r.write(&c); err != nil {
		fmt.Fprintln(os.Stderr, "kyso-bench:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s, %s, %s in %s\n", c.jsonOut, c.docOut, c.svgOut, time.Since(start).Round(time.Second))
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "[bench %s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
}

// env is the environment of one Kyso process tree: its own config, cache
// (logs) and runtime dir (the local socket), so that nothing of the user's
// own Kyso is read or touched, and two agents never meet.
func env(dir, softhsmConf string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR", "SOFTHSM2_CONF":
			continue
		}
		out = append(out, kv)
	}
	return append(out,
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"XDG_CACHE_HOME="+filepath.Join(dir, "cache"),
		"XDG_RUNTIME_DIR="+filepath.Join(dir, "run"),
		"SOFTHSM2_CONF="+softhsmConf,
	)
}

// writeConfig writes DIR/config/kyso/config.json (port 0: none, the bench
// agent then binds a free one): the bench origins allowed and the module;
// and DIR/policy.json, the system policy the bench agent reads (-system),
// with the PIN cache window (only a system policy may set it): an hour,
// the most it may be and longer than the run (cached), so that the one PIN
// is typed once and each later operation is confirmed by the scripted
// prompter at once; or 0 (ask), so that every operation has its PIN dialog.
func writeConfig(dir, module string, port int, cache pinCache) (string, error) {
	for _, d := range []string{"config/kyso", "cache", "run"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return "", err
		}
	}
	origins := []string{benchOrigin}
	for i := 0; i < tabOrigins; i++ {
		origins = append(origins, tabOrigin(i))
	}
	cfg := map[string]any{
		"allowedOrigins": origins,
		"modules":        []string{module},
	}
	policy := fmt.Appendf(nil, `{"pinCacheSeconds": %d}`, int(cache))
	if err := os.WriteFile(filepath.Join(dir, "policy.json"), policy, 0o600); err != nil {
		return "", err
	}
	if port != 0 {
		cfg["port"] = port
	}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	path := filepath.Join(dir, "config", "kyso", "config.json")
	return path, os.WriteFile(path, b, 0o600)
}

// pinCache is the PIN cache window of a bench agent's system policy.
type pinCache int

const (
	cached pinCache = 3600 // one PIN for the run (at most an hour: DESIGN)
	ask    pinCache = 0    // a PIN dialog for every operation
)

// freePort returns a loopback port nobody listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// proc is a started agent.
type proc struct {
	cmd   *exec.Cmd
	port  int
	done  chan error  // Wait's result, once the process exited
	lines chan string // agentbench's stdout after "ready"
	pins  chan int64  // agentbench: when each PIN dialog was answered (Unix ns)
}

func newProc(cmd *exec.Cmd) *proc {
	p := &proc{cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait(); close(p.done) }()
	return p
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// goMem asks agentbench for its Go runtime memory (SIGUSR1).
func (p *proc) goMem() (map[string]float64, error) {
	if p.lines == nil {
		return nil, errors.New("not the bench agent")
	}
	p.cmd.Process.Signal(syscall.SIGUSR1)
	select {
	case l := <-p.lines:
		var m map[string]float64
		return m, json.Unmarshal([]byte(l), &m)
	case <-time.After(5 * time.Second):
		return nil, errors.New("no memory stats from the bench agent")
	}
}

// stop ends the agent as its service manager would (SIGTERM).
func (p *proc) stop() error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		return err
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		return errors.New("agent did not stop on SIGTERM")
	}
}

// startAgentbench starts bench/agentbench and waits for "ready <port>".
func startAgentbench(bin string, e []string, configFile string, profile string) (*proc, error) {
	// writeConfig put the system policy beside the config's folder tree.
	system := filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(configFile))), "policy.json")
	args := []string{"-config", configFile, "-system", system}
	if profile != "" {
		args = append(args, "-cpuprofile", profile)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = e
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	p := newProc(cmd)
	line := make(chan string, 1)
	p.lines = make(chan string, 16)
	p.pins = make(chan int64, 1024)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		for sc.Scan() {
			var ns int64
			if _, err := fmt.Sscanf(sc.Text(), "pin %d", &ns); err == nil {
				select {
				case p.pins <- ns:
				default: // nobody measures from the dialog: drop it
				}
				continue
			}
			select {
			case p.lines <- sc.Text():
			default: // nobody asked: drop it
			}
		}
	}()
	select {
	case l, ok := <-line:
		if !ok {
			<-p.done
			return nil, fmt.Errorf("%s exited before it was ready", bin)
		}
		if _, err := fmt.Sscanf(l, "ready %d", &p.port); err != nil {
			cmd.Process.Kill()
			<-p.done
			return nil, fmt.Errorf("%s said %q", bin, l)
		}
		return p, nil
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-p.done
		return nil, fmt.Errorf("%s not ready after 30 s", bin)
	}
}

// startServe starts the real `kyso serve` and waits until its WebSocket
// port accepts connections.
func startServe(bin string, e []string, configFile string, port int) (*proc, error) {
	cmd := exec.Command(bin, "serve", "--config", configFile)
	cmd.Env = e
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting kyso serve: %w", err)
	}
	p := newProc(cmd)
	p.port = port
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if p.exited() {
			return nil, fmt.Errorf("kyso serve exited: %s", stderr.String())
		}
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
			c.Close()
			return p, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	<-p.done
	return nil, errors.New("kyso serve did not listen within 30 s")
}

// request builders. Requests are built before the clock starts: a page
// builds its request before it sends it, and the floor hashes nothing.
func signRequest(id string, s *scheme, hash []byte) []byte {
	b, _ := json.Marshal(map[string]any{"id": id, "op": "sign", "params": map[string]any{
		"certificateId": s.certID, "hash": hash, "hashFunction": "SHA-256", "scheme": s.Scheme,
	}})
	return b
}

func batchRequest(id string, s *scheme, hashes [][]byte) []byte {
	b, _ := json.Marshal(map[string]any{"id": id, "op": "signBatch", "params": map[string]any{
		"certificateId": s.certID, "hashes": hashes, "hashFunction": "SHA-256", "scheme": s.Scheme,
	}})
	return b
}

func versionRequest(id string) []byte {
	return []byte(`{"id":"` + id + `","op":"version","params":{}}`)
}

func randomHashes(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = make([]byte, 32)
		rand.Read(out[i])
	}
	return out
}

// verify checks one signature with Go crypto against the certificate: the
// bench measures signing, so it makes sure it gets real signatures.
func verify(s *scheme, hash []byte, sigB64 string) error {
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil {
		return err
	}
	switch pub := s.cert.PublicKey.(type) {
	case *rsa.PublicKey:
		if s.Scheme == token.PSS {
			return rsa.VerifyPSS(pub, crypto.SHA256, hash, sig, &rsa.PSSOptions{SaltLength: 32})
		}
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, hash, sig)
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, hash, sig) {
			return errors.New("ECDSA signature does not verify")
		}
		return nil
	}
	return fmt.Errorf("unexpected key type %T", s.cert.PublicKey)
}

// series sends n (after warmup) requests made by mk and times each round
// trip. check looks at the first response.
func series(rt roundTripper, warmup, n int, mk func(i int) []byte, check func(i int, resp response) error) ([]int64, error) {
	reqs := make([][]byte, warmup+n)
	for i := range reqs {
		reqs[i] = mk(i)
	}
	out := make([]int64, 0, n)
	for i, req := range reqs {
		t := time.Now()
		raw, err := rt.roundTrip(req)
		d := time.Since(t)
		if err != nil {
			return nil, err
		}
		if i >= warmup {
			out = append(out, int64(d))
		}
		if i == 0 || i == warmup {
			resp, err := parseResponse(raw)
			if err != nil {
				return nil, err
			}
			if check != nil {
				if err := check(i, resp); err != nil {
					return nil, err
				}
			}
		} else if !bytes.Contains(raw, []byte(`"ok":true`)) {
			_, err := parseResponse(raw)
			return nil, fmt.Errorf("call %d: %w", i, err)
		}
	}
	return out, nil
}

func checkSign(s *scheme, hashes [][]byte) func(int, response) error {
	return func(i int, resp response) error {
		var r struct {
			Signature string `json:"signature"`
		}
		if err := json.Unmarshal(resp.Result, &r); err != nil {
			return err
		}
		if err := verify(s, hashes[i%len(hashes)], r.Signature); err != nil {
			return fmt.Errorf("%s: %w", s.Title, err)
		}
		return nil
	}
}

func goVersion() string { return runtime.Version() }

func numCPU() int { return runtime.NumCPU() }
