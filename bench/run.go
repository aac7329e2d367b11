package main

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"kyso.vn/kyso/internal/frame"
	"kyso.vn/kyso/internal/testenv"
	"kyso.vn/kyso/token"
)

// figure is one measured number.
type figure struct {
	Key   string
	Value float64
	Unit  string
}

type results struct {
	meta  map[string]string
	figs  []figure
	val   map[string]float64
	notes []string
	// batch plot: size → median ms of Kyso's signBatch and of the raw loop.
	batchKyso, batchRaw map[int]float64
	rssMaps             []mapping // the agent's largest RSS parts after the signatures
	sz                  sizes
}

func (r *results) add(key string, v float64, unit string) {
	r.figs = append(r.figs, figure{key, v, unit})
	r.val[key] = v
}

func (r *results) has(key string) bool { _, ok := r.val[key]; return ok }

func (r *results) note(format string, a ...any) {
	s := fmt.Sprintf(format, a...)
	logf("note: %s", s)
	r.notes = append(r.notes, s)
}

// addSeries records median and p99 of samples under prefix.
func (r *results) addSeries(prefix string, ns []int64) summary {
	s := summarize(ns)
	r.add(prefix+"_median_ms", s.Median, "ms")
	r.add(prefix+"_p99_ms", s.P99, "ms")
	return s
}

func run(c *config) (*results, error) {
	r := &results{meta: map[string]string{}, val: map[string]float64{},
		batchKyso: map[int]float64{}, batchRaw: map[int]float64{}, sz: c.sz}
	for _, b := range []string{c.kyso, c.agentbench, c.minhost} {
		if _, err := os.Stat(b); err != nil {
			return nil, fmt.Errorf("missing binary (run `make bench`): %w", err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	module := testenv.FindSoftHSM()
	if module == "" {
		return nil, fmt.Errorf("libsofthsm2.so not found (apt-get install softhsm2)")
	}
	tmp, err := os.MkdirTemp("", "kyso-bench-")
	if err != nil {
		return nil, err
	}
	if c.keep {
		logf("keeping %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	// Tokens.
	tokDir := filepath.Join(tmp, "tokens")
	logf("provisioning SoftHSM tokens in %s", tokDir)
	prov := exec.Command("bash", "testdata/provision.sh", tokDir)
	prov.Env = append(os.Environ(), "KYSO_SOFTHSM_MODULE="+module)
	if out, err := prov.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("testdata/provision.sh: %w\n%s", err, out)
	}
	softhsmConf := filepath.Join(tokDir, "softhsm2.conf")
	for _, s := range schemes {
		der, err := os.ReadFile(filepath.Join(tokDir, s.Cert+".der"))
		if err != nil {
			return nil, err
		}
		if s.cert, err = x509.ParseCertificate(der); err != nil {
			return nil, err
		}
		s.certID = token.CertID(der)
	}
	rsaDER := schemes[0].cert.Raw
	r.meta["machine_cpus"] = fmt.Sprint(numCPU())
	for k, v := range machine() {
		r.meta["machine_"+k] = v
	}
	r.meta["go"] = goVersion()
	r.meta["quick"] = fmt.Sprint(c.quick)
	r.meta["date"] = time.Now().UTC().Format(time.RFC3339)
	r.meta["load_start"] = loadAverage()
	if out, err := exec.Command(c.kyso, "version").Output(); err == nil {
		r.meta["kyso"] = strings.TrimSpace(string(out))
	}

	// The token layer's stages, with module discovery on (as shipped) and
	// off (only the configured module).
	for _, disc := range []bool{true, false} {
		lr, err := runLayersProcess(self, module, softhsmConf, rsaDER, max(50, c.sz.Single/5), disc)
		if err != nil {
			return nil, err
		}
		k := "layers_discovery_"
		if !disc {
			k = "layers_nodiscovery_"
		}
		for _, st := range []struct {
			name string
			ns   int64
		}{{"discover", lr.Discover}, {"open", lr.Open}, {"loggedin", lr.LoggedIn}, {"sign", lr.Sign}, {"close", lr.Close}} {
			r.add(k+st.name+"_ms", float64(st.ns)/1e6, "ms")
		}
	}

	// 1. The bench agent: same engine and agent code, scripted prompter.
	aDir := filepath.Join(tmp, "agent")
	aCfg, err := writeConfig(aDir, module, 0, cached)
	if err != nil {
		return nil, err
	}
	aEnv := env(aDir, softhsmConf)
	profile := ""
	if c.profile {
		profile, _ = filepath.Abs("bin/bench/agent.pprof")
	}
	ag, err := startAgentbench(c.agentbench, aEnv, aCfg, profile)
	if err != nil {
		return nil, err
	}
	defer func() {
		if !ag.exited() {
			ag.stop()
		}
	}()
	time.Sleep(time.Second)
	rss, err := rssKiB(ag.pid())
	if err != nil {
		return nil, err
	}
	r.add("agent_rss_start_mb", mb(rss), "MB")
	addGoMem(r, ag, "agent_start")

	// 2. The floor, in its own process, driven alongside.
	fl, err := startFloor(self, module, softhsmConf, testenv.PIN)
	if err != nil {
		return nil, err
	}
	defer fl.close()

	// The WebSocket floor: the same C_Sign behind the least a WebSocket
	// server can do, in the floor process.
	fp, err := fl.do(floorCmd{WS: true})
	if err != nil {
		return nil, err
	}
	wsFloor, _, err := websocket.DefaultDialer.Dial(fmt.Sprintf("ws://127.0.0.1:%d/", fp.Port), nil)
	if err != nil {
		return nil, fmt.Errorf("WebSocket floor: %w", err)
	}
	defer wsFloor.Close()

	signed := 0
	ws, err := dialWS(ag.port)
	if err != nil {
		return nil, err
	}
	logf("version over WebSocket")
	vs, err := series(ws, c.sz.Warmup, c.sz.Version, func(i int) []byte { return versionRequest(fmt.Sprint("v", i)) }, nil)
	if err != nil {
		return nil, fmt.Errorf("version over WebSocket: %w", err)
	}
	r.addSeries("version_ws", vs)

	hashes := randomHashes(256)
	// One signature loads the PKCS#11 module (SoftHSM, OpenSSL) and logs
	// in: the RSS after it is the agent's working size before any load.
	if _, err := series(ws, 0, 1, func(int) []byte { return signRequest("first", schemes[0], hashes[0]) }, checkSign(schemes[0], hashes)); err != nil {
		return nil, fmt.Errorf("first sign: %w", err)
	}
	signed++
	time.Sleep(500 * time.Millisecond)
	if rss, err := rssKiB(ag.pid()); err == nil {
		r.add("agent_rss_first_sign_mb", mb(rss), "MB")
	}

	// The native-messaging path: the real `kyso host` binary, relaying
	// over the local socket to the bench agent (it finds it by
	// XDG_RUNTIME_DIR, as it finds the user's agent).
	var hc *hostClient
	if h, err := startHost(c.kyso, aEnv, extOrigin); err != nil {
		r.note("the native-messaging path was not measured: %v", err)
	} else if _, err := series(h, 0, 1, func(int) []byte { return versionRequest("hv") }, nil); err != nil {
		h.Close()
		r.note("the native-messaging path was not measured: `kyso host` failed: %v", err)
	} else {
		hc = h
	}

	// Single signatures: floor, WebSocket and host in alternating chunks.
	const chunk = 50
	for _, s := range schemes {
		logf("single sign: %s (floor, WebSocket, kyso host)", s.Title)
		fc := floorCase{Name: s.Name, Label: s.Label, Scheme: string(s.Scheme)}
		if _, err := fl.do(floorCmd{Case: fc, N: c.sz.Warmup}); err != nil {
			return nil, err
		}
		var raw, one, idle, wsNS, hostNS, wsFloorNS []int64
		mk := func(p string) func(i int) []byte {
			return func(i int) []byte { return signRequest(fmt.Sprint(p, i), s, hashes[i%len(hashes)]) }
		}
		for done := 0; done < c.sz.Single; done += chunk {
			n := min(chunk, c.sz.Single-done)
			fr, err := fl.do(floorCmd{Case: fc, N: n})
			if err != nil {
				return nil, err
			}
			raw, one, idle = append(raw, fr.PerOp...), append(one, fr.OneSession...), append(idle, fr.PerOpIdle...)
			warm := 0
			if done == 0 {
				warm = c.sz.Warmup
			}
			ns, err := series(ws, warm, n, mk("s"), checkSign(s, hashes))
			if err != nil {
				return nil, fmt.Errorf("sign over WebSocket (%s): %w", s.Title, err)
			}
			wsNS = append(wsNS, ns...)
			signed += warm + n
			if ns, err = wsFloorSeries(wsFloor, s, hashes, warm, n); err != nil {
				return nil, fmt.Errorf("sign over the WebSocket floor (%s): %w", s.Title, err)
			}
			wsFloorNS = append(wsFloorNS, ns...)
			if hc != nil {
				ns, err := series(hc, warm, n, mk("h"), checkSign(s, hashes))
				if err != nil {
					return nil, fmt.Errorf("sign over kyso host (%s): %w", s.Title, err)
				}
				hostNS = append(hostNS, ns...)
				signed += warm + n
			}
		}
		floor := r.addSeries("sign_raw_"+s.Name, raw)
		r.addSeries("sign_raw_onesession_"+s.Name, one)
		r.addSeries("sign_raw_idle_"+s.Name, idle)
		sm := r.addSeries("sign_ws_"+s.Name, wsNS)
		r.add("sign_ws_"+s.Name+"_ratio", sm.Median/floor.Median, "×")
		wf := r.addSeries("sign_wsfloor_"+s.Name, wsFloorNS)
		r.add("sign_wsfloor_"+s.Name+"_ratio", wf.Median/floor.Median, "×")
		r.add("sign_ws_"+s.Name+"_vs_wsfloor", sm.Median/wf.Median, "×")
		if hc != nil {
			sm := r.addSeries("sign_host_"+s.Name, hostNS)
			r.add("sign_host_"+s.Name+"_ratio", sm.Median/floor.Median, "×")
		}
	}
	if hc != nil {
		if err := hc.Close(); err != nil {
			r.note("kyso host exit: %v", err)
		}
	}

	// signBatch against the raw loop, one repetition of each in turn, on an
	// agent without the PIN cache: each signBatch has its PIN dialog, and
	// is timed from the dialog's answer to the response; the raw loop from
	// its C_Login to its last signature.
	rsa := schemes[0]
	dDir := filepath.Join(tmp, "dialog")
	dCfg, err := writeConfig(dDir, module, 0, ask)
	if err != nil {
		return nil, err
	}
	dg, err := startAgentbench(c.agentbench, env(dDir, softhsmConf), dCfg, "")
	if err != nil {
		return nil, err
	}
	dws, err := dialWS(dg.port)
	if err != nil {
		dg.stop()
		return nil, err
	}
	err = batches(r, c, fl, dws, dg, rsa)
	dws.Close()
	dg.stop()
	if err != nil {
		return nil, err
	}
	// The document operations, each size on a fresh agent of the same
	// configuration, so that its peak memory is its own.
	fresh := func() (*proc, *wsClient, error) {
		ag, err := startAgentbench(c.agentbench, env(dDir, softhsmConf), dCfg, "")
		if err != nil {
			return nil, nil, err
		}
		ws, err := dialWS(ag.port)
		if err != nil {
			ag.stop()
			return nil, nil, err
		}
		return ag, ws, nil
	}
	if err := documents(r, c, fl, fresh, rsa, tmp); err != nil {
		return nil, fmt.Errorf("documents: %w", err)
	}
	if c.fault != "" {
		if err := slowToken(r, c, self, tmp, module, softhsmConf, rsa); err != nil {
			return nil, fmt.Errorf("slow token: %w", err)
		}
	}

	// 4. Top up to the signature count of the RSS figure, in batches, on a
	// fresh connection: the first sat idle (no pong read) long enough for
	// the agent to close it.
	ws.Close()
	if ws, err = dialWS(ag.port); err != nil {
		return nil, err
	}
	if signed < c.sz.Signatures {
		logf("%d more signatures (batches) before reading RSS", c.sz.Signatures-signed)
	}
	for signed < c.sz.Signatures {
		n := min(1000, c.sz.Signatures-signed)
		raw, err := ws.roundTrip(batchRequest("top", rsa, randomHashes(n)))
		if err != nil {
			return nil, err
		}
		if _, err := parseResponse(raw); err != nil {
			return nil, err
		}
		signed += n
	}
	time.Sleep(time.Second)
	rss, err = rssKiB(ag.pid())
	if err != nil {
		return nil, err
	}
	r.add("agent_signatures", float64(signed), "")
	r.add("agent_rss_after_signatures_mb", mb(rss), "MB")
	addGoMem(r, ag, "agent_after_signatures")
	if rss, err := rssKiB(fl.cmd.Process.Pid); err == nil {
		r.add("floor_rss_mb", mb(rss), "MB")
	}
	if maps, err := rssByMapping(ag.pid()); err == nil {
		var libs int64
		for _, m := range maps {
			if !strings.HasPrefix(m.Name, "[") && m.Name != filepath.Base(c.agentbench) &&
				!strings.HasPrefix(m.Name, "libc.so") && !strings.HasPrefix(m.Name, "ld-linux") {
				libs += m.KiB
			}
		}
		r.add("agent_rss_module_libs_mb", mb(libs), "MB")
		for _, m := range maps[:min(6, len(maps))] {
			r.rssMaps = append(r.rssMaps, m)
			// Keys without the library's version: libgio-2.0.so.0.7400.6 → libgio-2.0.
			name, _, _ := strings.Cut(strings.Trim(m.Name, "[]"), ".so")
			r.add("agent_rss_map_"+name+"_mb", mb(m.KiB), "MB")
		}
	}
	ws.Close()

	// 5. Idle: the bench agent (after its signatures) and, beside it, a
	// fresh real `kyso serve` (after start), over the same window.
	var serve *proc
	sDir := filepath.Join(tmp, "serve")
	if port, err := freePort(); err == nil {
		if sCfg, err := writeConfig(sDir, module, port, cached); err == nil {
			serve, err = startServe(c.kyso, env(sDir, softhsmConf), sCfg, port)
			if err != nil {
				r.note("the real `kyso serve` was not measured: %v", err)
			}
		}
	}
	if serve != nil {
		defer serve.stop()
		time.Sleep(time.Second)
		if rss, err := rssKiB(serve.pid()); err == nil {
			r.add("serve_rss_start_mb", mb(rss), "MB")
		}
	}
	logf("idle for %s", c.sz.Idle)
	hz := clockTicks()
	a0, err := cpuTicks(ag.pid())
	if err != nil {
		return nil, err
	}
	var s0 int64
	if serve != nil {
		s0, _ = cpuTicks(serve.pid())
	}
	t0 := time.Now()
	time.Sleep(c.sz.Idle)
	wall := time.Since(t0).Seconds()
	a1, err := cpuTicks(ag.pid())
	if err != nil {
		return nil, err
	}
	r.add("agent_idle_seconds", wall, "s")
	r.add("agent_idle_cpu_percent", 100*float64(a1-a0)/float64(hz)/wall, "%")
	if rss, err := rssKiB(ag.pid()); err == nil {
		r.add("agent_rss_idle_mb", mb(rss), "MB")
	}
	addGoMem(r, ag, "agent_idle")
	if serve != nil {
		if s1, err := cpuTicks(serve.pid()); err == nil {
			r.add("serve_idle_cpu_percent", 100*float64(s1-s0)/float64(hz)/wall, "%")
		}
		if rss, err := rssKiB(serve.pid()); err == nil {
			r.add("serve_rss_idle_mb", mb(rss), "MB")
		}
	}

	// 6. Many connections held open.
	if err := connections(r, c.sz, ag); err != nil {
		return nil, err
	}

	// 7. The 1000-hash batch on a slow token (slowtoken.go).
	if c.fault != "" {
		if err := slowTokenBatch(r, c, self, module, softhsmConf, tmp); err != nil {
			return nil, fmt.Errorf("slow token batch: %w", err)
		}
	}

	// 8. Host cold start, agent running (relay) and not (engine in-process).
	noAgent := filepath.Join(tmp, "noagent")
	if _, err := writeConfig(noAgent, module, 0, cached); err != nil {
		return nil, err
	}
	if err := coldStarts(r, c, aEnv, env(noAgent, softhsmConf)); err != nil {
		return nil, err
	}

	r.meta["load_end"] = loadAverage()
	if err := ag.stop(); err != nil {
		r.note("bench agent exit: %v", err)
	}
	if c.profile {
		r.note("agent CPU profile: bin/bench/agent.pprof (go tool pprof %s bin/bench/agent.pprof)", c.agentbench)
	}
	return r, nil
}

// mb converts VmRSS (kB, which /proc means as KiB) to MB (10^6 bytes).
// addGoMem records the Go runtime's share of the agent's memory: the heap
// in use and all Go has mapped (Sys, an upper bound of Go's RSS).
func addGoMem(r *results, ag *proc, prefix string) {
	m, err := ag.goMem()
	if err != nil {
		r.note("%s: %v", prefix, err)
		return
	}
	r.add(prefix+"_go_heap_inuse_mb", m["heapInuse"]/1e6, "MB")
	r.add(prefix+"_go_sys_mb", m["goSys"]/1e6, "MB")
	r.add(prefix+"_go_released_mb", m["heapReleased"]/1e6, "MB")
	r.add(prefix+"_goroutines", m["goroutines"], "")
}

func mb(kib int64) float64 { return float64(kib) * 1024 / 1e6 }

func runLayersProcess(self, module, softhsmConf string, der []byte, n int, discovery bool) (*layersResult, error) {
	in, _ := json.Marshal(layersPlan{Module: module, PIN: testenv.PIN, CertDER: der, N: n, Discovery: discovery})
	cmd := exec.Command(self, "layers")
	cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+softhsmConf)
	cmd.Stdin = strings.NewReader(string(in))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("layers process: %w", err)
	}
	var res layersResult
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("layers process output: %w", err)
	}
	return &res, nil
}

// connections holds sz.Conns WebSockets open on the agent and measures its
// memory and the latency of `version` while they are held.
func connections(r *results, sz sizes, ag *proc) error {
	logf("%d WebSocket connections held open", sz.Conns)
	probe, err := dialWS(ag.port)
	if err != nil {
		return err
	}
	defer probe.Close()
	before, err := series(probe, sz.Warmup, sz.Version, func(i int) []byte { return versionRequest(fmt.Sprint("v", i)) }, nil)
	if err != nil {
		return err
	}
	rss0, err := rssKiB(ag.pid())
	if err != nil {
		return err
	}
	held := make([]*wsClient, 0, sz.Conns)
	defer func() {
		for _, h := range held {
			h.Close()
		}
	}()
	for len(held) < sz.Conns {
		h, err := dialWSAs(ag.port, tabOrigin(len(held)))
		if err != nil {
			return fmt.Errorf("connection %d of %d: %w", len(held)+1, sz.Conns, err)
		}
		held = append(held, h)
	}
	// Each held connection has been used once, as a page's would be.
	for i, h := range held {
		if _, err := h.roundTrip(versionRequest(fmt.Sprint("c", i))); err != nil {
			return err
		}
	}
	time.Sleep(time.Second)
	rss1, err := rssKiB(ag.pid())
	if err != nil {
		return err
	}
	// version round-robin over the held connections.
	var during []int64
	for i := 0; i < sz.Version; i++ {
		h := held[i%len(held)]
		t := time.Now()
		raw, err := h.roundTrip(versionRequest(fmt.Sprint("r", i)))
		during = append(during, int64(time.Since(t)))
		if err != nil {
			return err
		}
		if i == 0 {
			if _, err := parseResponse(raw); err != nil {
				return err
			}
		}
	}
	r.add("conns_held", float64(len(held)), "")
	r.add("conns_rss_before_mb", mb(rss0), "MB")
	r.add("conns_rss_held_mb", mb(rss1), "MB")
	r.add("conns_rss_added_mb", mb(rss1-rss0), "MB")
	addGoMem(r, ag, "conns_held")
	r.addSeries("conns_version_before", before)
	r.addSeries("conns_version_held", during)
	return nil
}

// coldStart starts bin args..., sends one framed `version` envelope and
// times process start to the reply; then closes stdin and reaps it.
// startCost is what one start of a program paid in its whole life, from
// the kernel's accounting (getrusage of the child): CPU time, page faults
// (the binary and its libraries paged in), context switches (threads
// handing work to each other).
type startCost struct {
	cpu         time.Duration
	faults, csw int64
}

func coldStart(env []string, bin string, args ...string) (time.Duration, startCost, error) {
	var cost startCost
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	in, err := cmd.StdinPipe()
	if err != nil {
		return 0, cost, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, cost, err
	}
	msg := envelope(versionRequest("cold"))
	t := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, cost, err
	}
	// The browser writes as soon as it has started the host; the pipe
	// holds the message until the host reads it.
	werr := frame.Write(in, msg)
	raw, err := frame.Read(out, frame.Max)
	d := time.Since(t)
	in.Close()
	cmd.Wait()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		cost = startCost{cpu: time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime)),
			faults: ru.Minflt + ru.Majflt, csw: ru.Nvcsw + ru.Nivcsw}
	}
	if werr != nil {
		return 0, cost, werr
	}
	if err != nil {
		return 0, cost, fmt.Errorf("%s: no reply: %w", bin, err)
	}
	if _, err := parseResponse(raw); err != nil {
		return 0, cost, fmt.Errorf("%s: %w", bin, err)
	}
	return d, cost, nil
}

func coldStarts(r *results, c *config, relayEnv, aloneEnv []string) error {
	logf("cold starts (%d each)", c.sz.ColdStarts)
	type prog struct {
		key  string
		env  []string
		bin  string
		args []string
	}
	progs := []prog{
		{"minhost", relayEnv, c.minhost, nil},
		{"minhost_cgo", relayEnv, c.minhost + "-cgo", nil},
		{"host_relay", relayEnv, c.kyso, []string{extOrigin}},
		{"host_alone", aloneEnv, c.kyso, []string{extOrigin}},
	}
	samples := map[string][]int64{}
	cpu, faults, csw := map[string][]int64{}, map[string][]int64{}, map[string][]int64{}
	failed := map[string]error{}
	// Interleaved, after a few untimed starts (page cache), so that drift
	// in the machine's load hits every program alike.
	for i := -3; i < c.sz.ColdStarts; i++ {
		for _, p := range progs {
			if failed[p.key] != nil {
				continue
			}
			d, cost, err := coldStart(p.env, p.bin, p.args...)
			if err != nil {
				failed[p.key] = err
				continue
			}
			if i >= 0 {
				samples[p.key] = append(samples[p.key], int64(d))
				cpu[p.key] = append(cpu[p.key], int64(cost.cpu))
				faults[p.key] = append(faults[p.key], cost.faults)
				csw[p.key] = append(csw[p.key], cost.csw)
			}
		}
	}
	if err := failed["minhost"]; err != nil {
		return fmt.Errorf("minhost: %w", err)
	}
	floor := r.addSeries("coldstart_minhost", samples["minhost"])
	for _, k := range []string{"minhost", "minhost_cgo", "host_relay", "host_alone"} {
		if failed[k] != nil {
			continue
		}
		r.add("coldstart_"+k+"_cpu_ms", summarize(cpu[k]).Median, "ms")
		r.add("coldstart_"+k+"_page_faults", float64(medianInt(faults[k])), "")
		r.add("coldstart_"+k+"_context_switches", float64(medianInt(csw[k])), "")
	}
	for _, k := range []string{"minhost_cgo", "host_relay", "host_alone"} {
		if err := failed[k]; err != nil {
			r.note("cold start of %s not measured: %v", k, err)
			continue
		}
		sm := r.addSeries("coldstart_"+k, samples[k])
		r.add("coldstart_"+k+"_ratio", sm.Median/floor.Median, "×")
		if cgo, ok := r.val["coldstart_minhost_cgo_median_ms"]; ok && k != "minhost_cgo" {
			r.add("coldstart_"+k+"_vs_cgo", sm.Median/cgo, "×")
		}
	}
	return nil
}

// fromDialog sends req and times it from its PIN dialog's answer (ag's
// stamp) to the response.
func fromDialog(ws *wsClient, ag *proc, req []byte) ([]byte, int64, error) {
	for len(ag.pins) > 0 {
		<-ag.pins // stamps of earlier requests
	}
	raw, err := ws.roundTrip(req)
	end := time.Now().UnixNano()
	if err != nil {
		return nil, 0, err
	}
	select {
	case at := <-ag.pins:
		return raw, end - at, nil
	case <-time.After(10 * time.Second):
		return nil, 0, errors.New("no PIN dialog was answered for the request")
	}
}

// batchFromDialog runs one signBatch of list and checks its last signature.
func batchFromDialog(ws *wsClient, ag *proc, s *scheme, id string, list [][]byte) (int64, error) {
	raw, ns, err := fromDialog(ws, ag, batchRequest(id, s, list))
	if err != nil {
		return 0, err
	}
	resp, err := parseResponse(raw)
	if err != nil {
		return 0, err
	}
	return ns, checkBatch(s, list)(0, resp)
}

// batches measures signBatch of each size from the answered PIN dialog
// (agent ag on ws) against the raw loop with its C_Login (floor fl).
func batches(r *results, c *config, fl *floorProc, ws *wsClient, ag *proc, s *scheme) error {
	fc := floorCase{Name: s.Name, Label: s.Label, Scheme: string(s.Scheme)}
	for _, n := range batchSizes {
		reps := c.sz.BatchReps[n]
		logf("signBatch of %d from the answered PIN dialog against the raw loop (%d times)", n, reps)
		list := randomHashes(n)
		var raw, kyso []int64
		for i := -1; i < reps; i++ { // i == -1: untimed warm-up of both
			fr, err := fl.do(floorCmd{Case: fc, N: 1, Count: n, Login: true})
			if err != nil {
				return err
			}
			ns, err := batchFromDialog(ws, ag, s, fmt.Sprint("b", i), list)
			if err != nil {
				return fmt.Errorf("signBatch of %d: %w", n, err)
			}
			if i >= 0 {
				raw, kyso = append(raw, fr.Batch...), append(kyso, ns)
			}
		}
		// The ratio is of the fastest repetitions: a batch takes up to
		// seconds, and on a shared machine what else runs during one
		// sample swings its median far more than Kyso's cost does.
		rm, km := summarize(raw), summarize(kyso)
		r.add(fmt.Sprintf("batch_raw_%d_median_ms", n), rm.Median, "ms")
		r.add(fmt.Sprintf("batch_raw_%d_min_ms", n), rm.Min, "ms")
		r.add(fmt.Sprintf("batch_ws_%d_median_ms", n), km.Median, "ms")
		r.add(fmt.Sprintf("batch_ws_%d_min_ms", n), km.Min, "ms")
		r.add(fmt.Sprintf("batch_ws_%d_ratio", n), km.Min/rm.Min, "×")
		r.add(fmt.Sprintf("batch_ws_%d_median_ratio", n), km.Median/rm.Median, "×")
		r.add(fmt.Sprintf("batch_ws_%d_per_signature_ms", n), km.Min/float64(n), "ms")
		r.batchRaw[n], r.batchKyso[n] = rm.Min, km.Min
	}
	return nil
}

// slowDelay is how long the slow token takes per signature: a USB token
// takes 0.1–1 s per RSA signature (DESIGN), SoftHSM under a millisecond.
const (
	slowDelay = 100 * time.Millisecond
	slowBatch = 10
)

// slowToken measures on a token that takes slowDelay per signature (the
// fault module of the tests around SoftHSM, sign_delay_ms): a single sign
// and a signBatch of slowBatch, each from its answered PIN dialog, against
// the raw floor on the same slow token with its C_Login. On such a token
// the per-request work Kyso does around the signature (what the hand-off,
// the policy stat throttle and the lock and decline caches were tuned to
// shave on SoftHSM) is what these ratios show.
func slowToken(r *results, c *config, self, tmp, module, softhsmConf string, s *scheme) error {
	ag, fl, err := startSlow(c, self, filepath.Join(tmp, "slow"), module, softhsmConf, slowDelay, ask)
	if err != nil {
		return err
	}
	defer ag.stop()
	defer fl.close()
	ws, err := dialWS(ag.port)
	if err != nil {
		return err
	}
	defer ws.Close()
	fc := floorCase{Name: s.Name, Label: s.Label, Scheme: string(s.Scheme)}
	r.add("slow_sign_delay_ms", float64(slowDelay.Milliseconds()), "ms")
	for _, n := range []int{1, slowBatch} {
		logf("slow token (%s per signature): %d signature(s) from the answered PIN dialog, %d times", slowDelay, n, c.sz.SlowReps)
		list := randomHashes(n)
		var raw, kyso []int64
		for i := -1; i < c.sz.SlowReps; i++ {
			fr, err := fl.do(floorCmd{Case: fc, N: 1, Count: n, Login: true})
			if err != nil {
				return err
			}
			var ns int64
			if n == 1 {
				var resp []byte
				resp, ns, err = fromDialog(ws, ag, signRequest(fmt.Sprint("s", i), s, list[0]))
				if err == nil {
					var pr response
					if pr, err = parseResponse(resp); err == nil {
						err = checkSign(s, list)(0, pr)
					}
				}
			} else {
				ns, err = batchFromDialog(ws, ag, s, fmt.Sprint("b", i), list)
			}
			if err != nil {
				return err
			}
			if i >= 0 {
				raw, kyso = append(raw, fr.Batch...), append(kyso, ns)
			}
		}
		rm, km := summarize(raw), summarize(kyso)
		k := "slow_sign"
		if n > 1 {
			k = fmt.Sprintf("slow_batch_%d", n)
		}
		r.add(k+"_raw_median_ms", rm.Median, "ms")
		r.add(k+"_ws_median_ms", km.Median, "ms")
		r.add(k+"_ratio", km.Median/rm.Median, "×")
		r.add(k+"_added_ms", km.Median-rm.Median, "ms")
	}
	return nil
}

// medianInt is the median of counts.
func medianInt(v []int64) int64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// loadAverage is the machine's 1-minute load average (what else ran during
// the run), "?" where /proc/loadavg cannot be read.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}
