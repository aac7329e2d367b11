package messages

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEveryTextUsed: the compiler makes every message a program names
// exist; this checks the other way, that every message of the table is
// still named by a program (outside tests), so that a text no command
// shows any more leaves the table with the code that showed it.
func TestEveryTextUsed(t *testing.T) {
	used := map[string]bool{}
	qualified := regexp.MustCompile(`\bmessages\.([A-Z]\w*)`)
	bare := regexp.MustCompile(`\b[A-Z]\w*\b`)
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "dist", "bin", "build":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if filepath.Dir(path) == filepath.Join("..", "messages") {
			// This package: a name used past its own declaration.
			count := map[string]int{}
			for _, n := range bare.FindAllString(string(b), -1) {
				count[n]++
			}
			for n, c := range count {
				if c > 1 {
					used[n] = true
				}
			}
			return nil
		}
		for _, m := range qualified.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name := range tableTexts(t) {
		if !strings.HasPrefix(name, "Error(") && !used[name] {
			t.Errorf("%s is in the table but no program shows it", name)
		}
	}
}
