package agent

import (
	"bufio"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
)

// portHolders on Linux: the listening sockets come from netlink sock_diag
// (a dump of the LISTEN state; /proc/net/tcp{,6} when netlink is refused)
// with their owner's uid and inode; the process is the one whose
// /proc/PID/fd has socket:[inode] (readable for our own processes, and for
// every process when run as root), and its program /proc/PID/exe.
func portHolders(port int) ([]PortHolder, error) {
	socks, err := diagListeners(uint16(port))
	if errors.Is(err, errDiagRefused) {
		socks, err = procListeners(uint16(port))
	}
	if err != nil {
		return nil, err
	}
	var out []PortHolder
	var inodes []uint64
	for _, s := range socks {
		if !listensForLoopback(s.local.String()) {
			continue
		}
		out = append(out, PortHolder{Addr: s.local.String(), User: userName(s.uid), Us: s.uid == os.Getuid()})
		inodes = append(inodes, s.inode)
	}
	pids := socketPIDs(inodes)
	for i := range out {
		if pid, ok := pids[inodes[i]]; ok {
			out[i].PID = pid
			out[i].Exe, _ = os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
		}
	}
	return out, nil
}

// userName is the name of uid, or the uid when it has none.
func userName(uid int) string {
	id := strconv.Itoa(uid)
	if u, err := user.LookupId(id); err == nil {
		return u.Username
	}
	return "uid " + id
}

// socketPIDs finds, for each socket inode, a process that has it open.
func socketPIDs(inodes []uint64) map[uint64]int {
	want := map[string]uint64{}
	for _, in := range inodes {
		want["socket:["+strconv.FormatUint(in, 10)+"]"] = in
	}
	found := map[uint64]int{}
	if len(want) == 0 {
		return found
	}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		pid, err := strconv.Atoi(filepath.Base(p))
		if err != nil {
			continue
		}
		fds, err := os.ReadDir(p + "/fd")
		if err != nil {
			continue // another user's process
		}
		for _, fd := range fds {
			link, err := os.Readlink(p + "/fd/" + fd.Name())
			if in, ok := want[link]; err == nil && ok {
				if _, seen := found[in]; !seen {
					found[in] = pid
				}
			}
		}
		if len(found) == len(want) {
			break
		}
	}
	return found
}

// procListeners lists the listening sockets on port from /proc/net/tcp{,6}
// (state 0A), with their uid and inode.
func procListeners(port uint16) ([]diagSocket, error) {
	var out []diagSocket
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(file)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("agent: %w", err)
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // the header line
		for sc.Scan() {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[3] != "0A" {
				continue
			}
			local, err := parseProcAddr(fields[1])
			if err != nil || local.Port() != port {
				continue
			}
			uid, err1 := strconv.Atoi(fields[7])
			inode, err2 := strconv.ParseUint(fields[9], 10, 64)
			if err1 != nil || err2 != nil {
				continue
			}
			out = append(out, diagSocket{local: local, uid: uid, inode: inode, remote: netip.AddrPort{}})
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("agent: reading %s: %w", file, err)
		}
	}
	return out, nil
}
