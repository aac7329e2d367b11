package main

import (
	"encoding/xml"
	"os"
	"strings"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	var ns []int64
	for i := 1; i <= 1000; i++ {
		ns = append(ns, int64(i)*int64(time.Millisecond))
	}
	s := summarize(ns)
	if s.N != 1000 || s.Median != 501 || s.P99 != 990 {
		t.Fatalf("summarize(1..1000 ms) = %+v; want median 501, p99 990", s)
	}
	if s := summarize([]int64{int64(time.Millisecond)}); s.Median != 1 || s.P99 != 1 {
		t.Fatalf("summarize(one) = %+v", s)
	}
	if s := summarize(nil); s.N != 0 {
		t.Fatalf("summarize(nil) = %+v", s)
	}
}

func TestRound(t *testing.T) {
	for in, want := range map[float64]float64{15612: 15612, 0.123456: 0.1235, 862.74: 862.7, 0: 0} {
		if got := round(in); got != want {
			t.Errorf("round(%v) = %v, want %v", in, got, want)
		}
	}
}

// The report and the plot come out whole even with figures missing (a
// path not measured) and the SVG is well-formed XML.
func TestReportAndPlot(t *testing.T) {
	r := &results{meta: map[string]string{}, val: map[string]float64{},
		batchKyso: map[int]float64{1: 9, 10: 17, 100: 97, 1000: 869},
		batchRaw:  map[int]float64{1: 1, 10: 7, 100: 91, 1000: 863}, sz: quick}
	r.add("sign_ws_rsa2048_pkcs1_ratio", 11.5, "×")
	r.add("batch_ws_1000_ratio", 1.01, "×")
	md := r.markdown("plot.svg")
	for _, want := range []string{"information: 11.50× for RSA-2048",
		"| signBatch(1000) RSA-2048 from the answered PIN dialog vs the raw loop (fastest of each) | 1.01 | ≤ 1.05 | met |",
		"not measured", "Fortify"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, svg := range []string{r.svg(), (&results{batchKyso: map[int]float64{}, batchRaw: map[int]float64{}}).svg()} {
		d := xml.NewDecoder(strings.NewReader(svg))
		for {
			if _, err := d.Token(); err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("SVG not well-formed: %v\n%s", err, svg)
				}
				break
			}
		}
	}
}

func TestProcReaders(t *testing.T) {
	pid := os.Getpid()
	if kib, err := rssKiB(pid); err != nil || kib <= 0 {
		t.Fatalf("rssKiB = %d, %v", kib, err)
	}
	if _, err := cpuTicks(pid); err != nil {
		t.Fatal(err)
	}
	maps, err := rssByMapping(pid)
	if err != nil || len(maps) == 0 {
		t.Fatalf("rssByMapping = %v, %v", maps, err)
	}
}
