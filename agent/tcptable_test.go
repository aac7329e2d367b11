package agent

import (
	"encoding/binary"
	"net/netip"
	"os"
	"testing"
)

// The tables in testdata were recorded from a real GetExtendedTcpTable
// (Wine 8's iphlpapi, which fills the owner pid for its own processes'
// sockets only; 0 for others) by testdata/recordtcptable, which printed:
//
//	pid 32
//	sid S-1-5-21-0-0-0-1000
//	listener 127.0.0.1:41871 client 127.0.0.1:41441 server 127.0.0.1:41871
//	listener [::1]:40307 client [::1]:37349 server [::1]:40307
//
// The Windows socket owner check (tcpowner_windows.go) and port holder
// lookup (portholder_windows.go) read these tables; the Windows API calls
// themselves are cross-built (GOOS=windows go vet ./agent/) but not run
// here.
func readTable(t *testing.T, name string, v6 bool) []tcpRow {
	t.Helper()
	b, err := os.ReadFile("testdata/tcptable_" + name + ".bin")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := parseTCPTable(b, v6)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return rows
}

func TestParseRecordedTCPTables(t *testing.T) {
	ap := netip.MustParseAddrPort
	// The client socket of the IPv4 connection, found as the agent looks
	// for it: local = the peer's address, remote = ours.
	rows := readTable(t, "v4_connections", false)
	if len(rows) != 1535 {
		t.Errorf("v4 connections: %d rows, want 1535", len(rows))
	}
	if pid, ok := connPID(rows, ap("127.0.0.1:41441"), ap("127.0.0.1:41871")); !ok || pid != 32 {
		t.Errorf("v4 client socket: pid %d, %v; want 32", pid, ok)
	}
	if _, ok := connPID(rows, ap("127.0.0.1:41871"), ap("127.0.0.1:41442")); ok {
		t.Error("v4: found a connection that does not exist")
	}
	// Listeners: ours on 127.0.0.1:41871 among the machine's others.
	ls := listenRows(readTable(t, "v4_listener", false), 41871)
	if len(ls) != 1 || ls[0].local != ap("127.0.0.1:41871") || ls[0].state != mibTCPListen {
		t.Errorf("v4 listener: %+v", ls)
	}
	// IPv6: the same over [::1].
	rows6 := readTable(t, "v6_connections", true)
	if _, ok := connPID(rows6, ap("[::1]:37349"), ap("[::1]:40307")); !ok {
		t.Errorf("v6 client socket not found in %+v", rows6)
	}
	ls6 := listenRows(readTable(t, "v6_listener", true), 40307)
	if len(ls6) != 1 || ls6[0].local != ap("[::1]:40307") {
		t.Errorf("v6 listener: %+v", ls6)
	}
	for _, r := range rows6 {
		if r.state != mibTCPEstab {
			t.Errorf("v6 row %+v: state %d, want ESTABLISHED", r, r.state)
		}
	}
}

// Tables that lie about their size are refused, never read past the end.
func TestParseTCPTableBad(t *testing.T) {
	for _, c := range []struct {
		b  []byte
		v6 bool
	}{
		{nil, false}, {[]byte{1, 0}, false},
		{append([]byte{2, 0, 0, 0}, make([]byte, tcpRow4Len)...), false},
		{append([]byte{1, 0, 0, 0}, make([]byte, tcpRow4Len)...), true},
		{[]byte{0xff, 0xff, 0xff, 0xff}, false},
	} {
		if _, err := parseTCPTable(c.b, c.v6); err == nil {
			t.Errorf("%x (v6 %v) parsed", c.b, c.v6)
		}
	}
	if rows, err := parseTCPTable([]byte{0, 0, 0, 0}, false); err != nil || len(rows) != 0 {
		t.Errorf("empty table: %v, %v", rows, err)
	}
}

// sid builds a binary SID: revision 1, authority, sub-authorities.
func sid(auth byte, subs ...uint32) []byte {
	b := []byte{1, byte(len(subs)), 0, 0, 0, 0, 0, auth}
	for _, s := range subs {
		b = binary.LittleEndian.AppendUint32(b, s)
	}
	return b
}

// The owner check compares the client process's user SID with ours: the
// same account only, byte for byte over the SID's own length.
func TestSameSID(t *testing.T) {
	mine, err := os.ReadFile("testdata/tcptable_sid.bin") // recorded: S-1-5-21-0-0-0-1000
	if err != nil {
		t.Fatal(err)
	}
	if got := sidString(mine); got != "S-1-5-21-0-0-0-1000" {
		t.Fatalf("recorded SID reads %s", got)
	}
	same := sid(5, 21, 0, 0, 0, 1000)
	for _, c := range []struct {
		name  string
		other []byte
		want  bool
	}{
		{"the same account", same, true},
		{"the same, with bytes after it", append(append([]byte(nil), same...), 0xde, 0xad), true},
		{"another user of the machine", sid(5, 21, 0, 0, 0, 1001), false},
		{"SYSTEM", sid(5, 18), false},
		{"the same RID in another domain", sid(5, 21, 1, 2, 3, 1000), false},
		{"a prefix of ours", sid(5, 21, 0, 0, 0), false},
		{"another authority", sid(1, 21, 0, 0, 0, 1000), false},
		{"truncated", same[:len(same)-1], false},
		{"empty", nil, false},
		{"bad revision", append([]byte{2}, same[1:]...), false},
	} {
		if got := sameSID(mine, c.other); got != c.want {
			t.Errorf("%s (%s): same = %v, want %v", c.name, sidString(c.other), got, c.want)
		}
	}
	if sameSID(nil, nil) {
		t.Error("two invalid SIDs are the same")
	}
	if got := sidString(sid(5, 18)); got != "S-1-5-18" {
		t.Errorf("sidString(SYSTEM) = %s", got)
	}
}
