package installer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// registry writes Windows registry values. Only Windows plans have registry
// items; under Root they become files (see fileRegistry) so tests and
// staging only ever write files.
type regStore interface {
	set(it Item) error
	remove(it Item) error
	get(hive, key, name string) (string, error)
}

func registryFor(o Options) regStore {
	if o.Root != "" {
		return fileRegistry{root: filepath.Join(o.Root, "registry")}
	}
	return systemRegistry{}
}

// RegistryValue reads a registry value (under Root: from its file).
func RegistryValue(o Options, hive, key, name string) (string, error) {
	return registryFor(o).get(hive, key, name)
}

// fileRegistry keeps each value in ROOT/registry/HIVE/KEY/NAME ("@" for the
// default value).
type fileRegistry struct{ root string }

func (r fileRegistry) path(hive, key, name string) string {
	if name == "" {
		name = "@"
	}
	parts := append([]string{r.root, hive}, strings.Split(key, `\`)...)
	return filepath.Join(append(parts, name)...)
}

func (r fileRegistry) set(it Item) error {
	p := r.path(it.Hive, it.Key, it.Name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("installer: registry %s: %w", it.Key, err)
	}
	return writeFileAtomic(p, []byte(it.Value), 0o644)
}

func (r fileRegistry) remove(it Item) error {
	p := r.path(it.Hive, it.Key, it.Name)
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("installer: registry %s: %w", it.Key, err)
	}
	// Drop the emptied keys, as deleting the key does on Windows.
	for d := filepath.Dir(p); strings.HasPrefix(d, r.root); d = filepath.Dir(d) {
		if os.Remove(d) != nil {
			break
		}
	}
	return nil
}

func (r fileRegistry) get(hive, key, name string) (string, error) {
	b, err := os.ReadFile(r.path(hive, key, name))
	return string(b), err
}
