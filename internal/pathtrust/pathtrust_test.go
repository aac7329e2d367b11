package pathtrust

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// Walk visits the resolved file, then the folders above the path as
// written and above the file it resolves to, each once, up to the root.
func TestWalk(t *testing.T) {
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(base, "real", "bin", "kyso")
	os.MkdirAll(filepath.Dir(file), 0o755)
	os.WriteFile(file, []byte("x"), 0o755)
	os.MkdirAll(filepath.Join(base, "links"), 0o755)
	link := filepath.Join(base, "links", "kyso")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	root := base
	for filepath.Dir(root) != root {
		root = filepath.Dir(root)
	}
	var files, dirs []string
	err = Walk(link, func(p string, fi os.FileInfo, isDir bool) error {
		if isDir != fi.IsDir() {
			t.Errorf("%s: isDir %v, stat says %v", p, isDir, fi.IsDir())
		}
		if isDir {
			dirs = append(dirs, p)
		} else {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(files, []string{file}) {
		t.Errorf("files %v, want the resolved %s", files, file)
	}
	for _, d := range []string{filepath.Join(base, "links"), filepath.Join(base, "real", "bin"), filepath.Join(base, "real"), base, root} {
		if n := len(slices.DeleteFunc(slices.Clone(dirs), func(x string) bool { return x != d })); n != 1 {
			t.Errorf("folder %s visited %d times (%v)", d, n, dirs)
		}
	}

	stop := errors.New("refused")
	if err := Walk(link, func(p string, _ os.FileInfo, isDir bool) error {
		if p == base {
			return stop
		}
		return nil
	}); err != stop {
		t.Errorf("a check's refusal: %v, want it as it is", err)
	}
	if err := Walk(filepath.Join(base, "none"), func(string, os.FileInfo, bool) error { return nil }); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	if err := Walk(base, func(string, os.FileInfo, bool) error { return nil }); !errors.Is(err, ErrNotRegular) {
		t.Errorf("a folder: %v", err)
	}
}
