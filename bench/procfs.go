package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// rssKiB reads VmRSS (resident memory, KiB) of pid from /proc.
func rssKiB(pid int) (int64, error) { return statusKiB(pid, "VmRSS:") }

// statusKiB reads the line key (e.g. "VmRSS:") of /proc/PID/status, in KiB.
func statusKiB(pid int, key string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key); ok {
			fields := strings.Fields(v)
			if len(fields) == 0 {
				break
			}
			return strconv.ParseInt(fields[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", key, pid)
}

// cpuTicks reads utime+stime of pid (clock ticks) from /proc/<pid>/stat.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: count from the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no ')'", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// After ')' come field 3 (state) onwards: utime is field 14, stime 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime/stime", pid)
	}
	return ut + st, nil
}

// clockTicks is USER_HZ (getconf CLK_TCK), 100 on every Linux we know.
func clockTicks() int64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil && v > 0 {
			return v
		}
	}
	return 100
}

// machine describes where the figures were measured.
func machine() map[string]string {
	m := map[string]string{}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				m["cpu"] = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	if out, err := exec.Command("uname", "-sr").Output(); err == nil {
		m["kernel"] = strings.TrimSpace(string(out))
	}
	if out, err := exec.Command("dpkg-query", "-W", "-f=${Version}", "softhsm2").Output(); err == nil {
		m["softhsm2"] = strings.TrimSpace(string(out))
	}
	return m
}

// rssByMapping sums Rss of /proc/<pid>/smaps by mapped file (anonymous
// memory, the Go heap and C malloc among it, as "[anon]"), largest first:
// it tells what the resident memory is made of.
func rssByMapping(pid int) ([]mapping, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sum := map[string]int64{}
	cur := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if v, ok := strings.CutPrefix(l, "Rss:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			sum[cur] += n
			continue
		}
		fields := strings.Fields(l)
		// A mapping header: "start-end perms offset dev inode [path]".
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			cur = "[anon]"
			if len(fields) >= 6 {
				cur = filepath.Base(fields[5])
				if strings.HasPrefix(fields[5], "[") {
					cur = fields[5]
				}
			}
			if cur == "[heap]" || cur == "[stack]" {
				cur = "[anon]"
			}
		}
	}
	out := make([]mapping, 0, len(sum))
	for k, v := range sum {
		out = append(out, mapping{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].KiB > out[j].KiB })
	return out, sc.Err()
}

type mapping struct {
	Name string
	KiB  int64
}
