// Package atomicfile replaces a file so that a reader sees the old or the new
// content, never a torn one, and a crash leaves nothing half-written.
package atomicfile

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// staleAge is how old a leftover temp file must be before Write removes
// it: a concurrent writer's own temp file lives for milliseconds.
const staleAge = time.Minute

// Write replaces path with data and mode: a temp file in the same directory
// (so the rename stays on one file system), fsync, rename over path (which
// replaces a symlink at path rather than writing through it), then a
// best-effort fsync of the directory to make the rename durable (Windows
// cannot sync a directory; that error is of no consequence). The temp file
// is removed on every failure. A process killed between creating its temp
// file and the rename leaves one behind (SIGKILL runs no cleanup): Write
// then removes such leftovers of path, once they are staleAge old.
func Write(path string, data []byte, mode fs.FileMode) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(mode); err != nil {
		return err
	}
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	removeStale(path)
	return nil
}

// removeStale removes the temp files of path that killed writers left.
func removeStale(path string) {
	dir, prefix := filepath.Dir(path), "."+filepath.Base(path)+".tmp"
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleAge {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
