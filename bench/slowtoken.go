package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"kyso.vn/kyso/internal/testenv"
)

// The batch on a slow token (issue 15): a USB token signs in 0.1–1 s, so a
// 1000-hash signBatch is minutes of the token's own time, and Kyso's share
// of it should be nothing. The fault module (testdata/faultp11) makes the
// RSA token take 130 ms more for each C_Sign; the floor is the same 1000
// raw calls through the same module, measured in the same run just before
// and just after Kyso's batch (the mean of the two: a sleep's overshoot on
// a loaded machine drifts, see docs/testdata.md). Kyso's time is the
// signBatch round trip over WebSocket with the bench agent's dialog
// answered at once (the PIN cached: a confirmation), so it is what Kyso
// adds after the person's answer. Target: ≤ 1.02×.

const slowSignDelay = 130 * time.Millisecond

// slowTokenBatch measures it.
func slowTokenBatch(r *results, c *config, self, module, softhsmConf, tmp string) error {
	n := 1000
	if c.quick {
		n = 100
	}
	ag, fl, err := startSlow(c, self, filepath.Join(tmp, "slow-batch"), module, softhsmConf, slowSignDelay, cached)
	if err != nil {
		return err
	}
	defer ag.stop()
	defer fl.close()
	ws, err := dialWS(ag.port)
	if err != nil {
		return err
	}

	rsa := schemes[0]
	fc := floorCase{Name: rsa.Name, Label: rsa.Label, Scheme: string(rsa.Scheme)}
	// Untimed: the agent's first request loads the module and logs in
	// (the PIN), the floor's warms its session.
	if _, err := series(ws, 0, 1, func(int) []byte { return signRequest("slow-first", rsa, randomHashes(1)[0]) }, nil); err != nil {
		return fmt.Errorf("slow token, first sign: %w", err)
	}
	// A connection of its own for the batch, opened just before it: one
	// left unread through the raw loop's minutes would miss the agent's
	// pings and be closed.
	ws.Close()
	if _, err := fl.do(floorCmd{Case: fc, N: 1, Count: 2}); err != nil {
		return err
	}
	list := randomHashes(n)
	logf("signBatch of %d on a %v token, between two raw loops (about %v)", n, slowSignDelay, 3*time.Duration(n)*slowSignDelay)
	before, err := fl.do(floorCmd{Case: fc, N: 1, Count: n})
	if err != nil {
		return err
	}
	if ws, err = dialWS(ag.port); err != nil {
		return err
	}
	defer ws.Close()
	kyso, err := series(ws, 0, 1, func(int) []byte { return batchRequest("slow", rsa, list) }, checkBatch(rsa, list))
	if err != nil {
		return fmt.Errorf("signBatch on the slow token: %w", err)
	}
	after, err := fl.do(floorCmd{Case: fc, N: 1, Count: n})
	if err != nil {
		return err
	}
	raw := float64(before.Batch[0]+after.Batch[0]) / 2 / 1e6
	k := float64(kyso[0]) / 1e6
	r.add("slow_batch_size", float64(n), "")
	r.add("slow_batch_sign_delay_ms", float64(slowSignDelay.Milliseconds()), "ms")
	r.add("slow_batch_raw_before_ms", float64(before.Batch[0])/1e6, "ms")
	r.add("slow_batch_raw_after_ms", float64(after.Batch[0])/1e6, "ms")
	r.add("slow_batch_raw_ms", raw, "ms")
	r.add("slow_batch_ws_ms", k, "ms")
	r.add("slow_batch_ws_ratio", k/raw, "×")
	r.add("slow_batch_per_signature_over_raw_ms", (k-raw)/float64(n), "ms")
	return nil
}

// startSlow starts, in dir, a bench agent and a raw floor on a token that
// takes delay more per signature: the fault module (c.fault) around
// module, with the PIN cache of cache. The agent's crash journal has
// module, the SoftHSM the fault module wraps, disabled: SoftHSM itself,
// which p11-kit registers, is skipped (as ` + "`kyso modules`" + ` lists a disabled
// module), so the token is seen once, through the fault module.
func startSlow(c *config, self, dir, module, softhsmConf string, delay time.Duration, cache pinCache) (*proc, *floorProc, error) {
	fault, err := filepath.Abs(c.fault)
	if err == nil {
		_, err = os.Stat(fault)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("the fault module (make fault): %w", err)
	}
	cfg, err := writeConfig(dir, fault, 0, cache)
	if err != nil {
		return nil, nil, err
	}
	real, err := filepath.EvalSymlinks(module)
	if err != nil {
		return nil, nil, err
	}
	journal := filepath.Join(dir, "cache", "kyso", "modules")
	if err := os.MkdirAll(journal, 0o700); err != nil {
		return nil, nil, err
	}
	skip, _ := json.Marshal(map[string]any{"format": 1, "modules": map[string]any{
		real: map[string]any{"crashes": 2, "disabled": true, "call": "C_Initialize"}}})
	if err := os.WriteFile(filepath.Join(journal, "modules.json"), skip, 0o600); err != nil {
		return nil, nil, err
	}
	control := filepath.Join(dir, "fault.conf")
	if err := os.WriteFile(control, fmt.Appendf(nil, "sign_delay_ms=%d\n", delay.Milliseconds()), 0o600); err != nil {
		return nil, nil, err
	}
	faultEnv := []string{"KYSO_FAULT_CONTROL=" + control, "KYSO_FAULT_TARGET=" + module}
	ag, err := startAgentbench(c.agentbench, append(env(dir, softhsmConf), faultEnv...), cfg, "")
	if err != nil {
		return nil, nil, err
	}
	fl, err := startFloor(self, fault, softhsmConf, testenv.PIN, faultEnv...)
	if err != nil {
		ag.stop()
		return nil, nil, err
	}
	return ag, fl, nil
}

// checkBatch checks a signBatch result of list: as many signatures, the
// last one verified.
func checkBatch(s *scheme, list [][]byte) func(int, response) error {
	return func(_ int, resp response) error {
		var res struct {
			Signatures []string `json:"signatures"`
		}
		if err := json.Unmarshal(resp.Result, &res); err != nil {
			return err
		}
		if n := len(list); len(res.Signatures) != n {
			return fmt.Errorf("signBatch of %d gave %d signatures", n, len(res.Signatures))
		}
		return verify(s, list[len(list)-1], res.Signatures[len(list)-1])
	}
}

// slowTokenSection is the report's section of it.
func (r *results) slowTokenSection(w func(string, ...any)) {
	if _, ok := r.val["slow_batch_ws_ms"]; !ok {
		return
	}
	w("\n## signBatch on a slow token (0.13 s a signature)\n\n")
	w("A USB token signs in 0.1–1 s; the fault module makes the RSA-2048 token take %s ms more per `C_Sign`. "+
		"Kyso's `signBatch` of %s hashes over WebSocket (the dialog answered at once: what Kyso adds after the person's answer) "+
		"against the same number of raw `C_SignInit` + `C_Sign` through the same module, measured just before and just after it.\n\n",
		r.f("slow_batch_sign_delay_ms"), r.f("slow_batch_size"))
	w("| raw loop before (ms) | raw loop after (ms) | raw, mean (ms) | Kyso signBatch (ms) | ratio | Kyso over raw, per signature (ms) |\n|---|---|---|---|---|---|\n")
	w("| %s | %s | %s | %s | %s | %s |\n", r.f("slow_batch_raw_before_ms"), r.f("slow_batch_raw_after_ms"), r.f("slow_batch_raw_ms"),
		r.f("slow_batch_ws_ms"), r.ratio("slow_batch_ws_ratio"), r.f("slow_batch_per_signature_over_raw_ms"))
}
