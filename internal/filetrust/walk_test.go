package filetrust

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// walk visits the resolved file, then the folders above the path as
// written and above the file it resolves to, each once, up to the root;
// holds marks the two folders that hold the link and the file.
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
	var files, dirs, holders []string
	err = walk(link, func(p string, k kind, holds bool) error {
		switch k {
		case kindFile:
			files = append(files, p)
		case kindRoot:
			if p != root {
				t.Errorf("%s visited as the root, which is %s", p, root)
			}
			fallthrough
		default:
			dirs = append(dirs, p)
		}
		if holds {
			holders = append(holders, p)
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
	if want := []string{filepath.Join(base, "links"), filepath.Join(base, "real", "bin")}; !slices.Equal(holders, want) {
		t.Errorf("holders %v, want %v", holders, want)
	}

	// A link whose file sits in a folder above the link's: that folder is
	// a holder though the first chain reached it already.
	up := filepath.Join(base, "real", "bin", "up")
	if err := os.Symlink(filepath.Join(base, "real", "top"), up); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(base, "real", "top"), []byte("x"), 0o755)
	holders = nil
	walk(up, func(p string, _ kind, holds bool) error {
		if holds {
			holders = append(holders, p)
		}
		return nil
	})
	if want := []string{filepath.Join(base, "real", "bin"), filepath.Join(base, "real")}; !slices.Equal(holders, want) {
		t.Errorf("holders of a link to a file above it: %v, want %v", holders, want)
	}

	stop := errors.New("refused")
	if err := walk(link, func(p string, _ kind, _ bool) error {
		if p == base {
			return stop
		}
		return nil
	}); err != stop {
		t.Errorf("a visit's refusal: %v, want it as it is", err)
	}
	if err := walk(filepath.Join(base, "none"), func(string, kind, bool) error { return nil }); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	// Check says what walk leaves to the checker: a folder is not a file.
	var fe *Error
	if err := Check(base, AdminsOrSelf); !errors.As(err, &fe) || fe.Problem != NotRegular || fe.Object != base {
		t.Errorf("a folder: %v", err)
	}
}
