package layers

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "kyso.vn/kyso/"

// readMap reads the README's repository map: package → the Kyso packages
// it may import, and those that may import anything.
func readMap(t *testing.T) (allowed map[string][]string, anything map[string]bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	allowed, anything = map[string][]string{}, map[string]bool{}
	inMap := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			inMap = line == "## Repository map"
			continue
		case !inMap || !strings.HasPrefix(line, "| `"):
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 3 {
			t.Fatalf("README map row %q: want | package | owns | may import |", line)
		}
		var imports []string
		may := strings.TrimSpace(cells[2])
		if may != "—" && may != "any" {
			for _, p := range strings.Split(may, ",") {
				imports = append(imports, strings.TrimSpace(p))
			}
		}
		for _, p := range strings.Split(cells[0], ",") {
			p = strings.Trim(strings.TrimSpace(p), "`")
			allowed[p] = imports
			anything[p] = may == "any"
		}
	}
	if len(allowed) < 20 {
		t.Fatalf("README's repository map has %d packages; is the table still under \"## Repository map\"?", len(allowed))
	}
	return allowed, anything
}

// TestImportsFollowTheMap: every package of the module is on the README's
// map, and imports (outside its tests) only the Kyso packages its row
// allows.
func TestImportsFollowTheMap(t *testing.T) {
	allowed, anything := readMap(t)
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		may, ok := allowed[pkg]
		if !ok {
			t.Errorf("%s is not on the README's repository map: add its row (what it owns, what it may import)", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			dep, ours := strings.CutPrefix(imp, module)
			if !ours || anything[pkg] {
				continue
			}
			if !contains(may, dep) {
				t.Errorf("%s imports %s, which its row of the README's repository map does not allow", pkg, dep)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
