package logging

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestNewInWritesJSONPrivately(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kyso")
	if err := os.MkdirAll(dir, 0o755); err != nil { // a looser dir is tightened
		t.Fatal(err)
	}
	log, c, err := NewIn(dir, "agent")
	if err != nil {
		t.Fatal(err)
	}
	log.Info().Str("origin", "https://a.gov.vn").Msg("hello")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, FileName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(b), &line); err != nil {
		t.Fatalf("not one JSON line: %q: %v", b, err)
	}
	if line["component"] != "agent" || line["message"] != "hello" || line["origin"] != "https://a.gov.vn" || line["time"] == nil {
		t.Errorf("line: %v", line)
	}
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s: mode %o, want %o", p, st.Mode().Perm(), want)
		}
	}
}

func TestRotateAtStart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	if err := os.WriteFile(path, bytes.Repeat([]byte("x"), MaxSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	log, c, err := NewIn(dir, "host")
	if err != nil {
		t.Fatal(err)
	}
	log.Info().Msg("fresh")
	c.Close()
	if st, err := os.Stat(path + ".1"); err != nil || st.Size() != MaxSize+1 {
		t.Fatalf("rotated file: %v", err)
	}
	if b, _ := os.ReadFile(path); !bytes.Contains(b, []byte("fresh")) || len(b) > 1000 {
		t.Fatalf("new log: %q", b)
	}
	// Under the cap: appended, not rotated.
	log, c, _ = NewIn(dir, "host")
	log.Info().Msg("again")
	c.Close()
	if b, _ := os.ReadFile(path); !bytes.Contains(b, []byte("fresh")) || !bytes.Contains(b, []byte("again")) {
		t.Fatalf("appended log: %q", b)
	}
}

func TestUnwritableDirStillLogs(t *testing.T) {
	if os.Getuid() == 0 {
		t.Skip("root writes anywhere")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	log, c, err := NewIn(filepath.Join(dir, "kyso"), "agent")
	if err == nil {
		t.Fatal("no error for an unwritable dir")
	}
	log.Info().Msg("still usable")
	c.Close()
}

// A web page can make a running agent log one line per request (or per
// refused connection) for as long as it likes: the log must not grow
// without bound between restarts.
func TestLogBoundedWhileRunning(t *testing.T) {
	dir := t.TempDir()
	log, c, err := NewIn(dir, "agent")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pad := string(bytes.Repeat([]byte("o"), 200))
	for i := 0; i < 3*MaxSize/200; i++ {
		log.Warn().Str("origin", "https://flood.example").Str("pad", pad).Msg("refused")
	}
	path := filepath.Join(dir, FileName)
	for _, p := range []string{path, path + ".1"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > MaxSize {
			t.Errorf("%s: %d bytes, over the %d cap", p, st.Size(), MaxSize)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %o", p, st.Mode().Perm())
		}
	}
	log.Info().Msg("last")
	if b, _ := os.ReadFile(path); !bytes.Contains(b, []byte(`"last"`)) {
		t.Error("the newest line is not in the current log")
	}
}

// The signing record is a file of its own beside kyso.log, private too.
func TestOpenAuditOwnFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kyso")
	log, c, err := NewIn(dir, "agent")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	audit, err := OpenAudit(dir)
	if err != nil {
		t.Fatal(err)
	}
	log.Info().Msg("every request")
	audit.Write([]byte(`{"outcome":"OK"}` + "\n"))
	if err := audit.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, AuditFileName))
	if err != nil || bytes.Count(b, []byte("\n")) != 1 || !bytes.Contains(b, []byte(`"outcome":"OK"`)) {
		t.Fatalf("audit.log: %q, %v", b, err)
	}
	if st, _ := os.Stat(filepath.Join(dir, AuditFileName)); st.Mode().Perm() != 0o600 {
		t.Errorf("audit.log mode %o", st.Mode().Perm())
	}
	if g := Generations(dir, AuditFileName); len(g) != 2 || g[0] != filepath.Join(dir, "audit.log.1") || g[1] != filepath.Join(dir, "audit.log") {
		t.Errorf("generations %v", g)
	}
}
