package installer

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

type systemRegistry struct{}

func rootKey(hive string) (registry.Key, error) {
	switch hive {
	case "HKCU":
		return registry.CURRENT_USER, nil
	case "HKLM":
		return registry.LOCAL_MACHINE, nil
	}
	return 0, fmt.Errorf("installer: unknown hive %q", hive)
}

func (systemRegistry) set(it Item) error {
	root, err := rootKey(it.Hive)
	if err != nil {
		return err
	}
	k, _, err := registry.CreateKey(root, it.Key, registry.SET_VALUE)
	if err != nil {
		return fmt.Errorf("installer: registry %s\\%s: %w", it.Hive, it.Key, err)
	}
	defer k.Close()
	if err := k.SetStringValue(it.Name, it.Value); err != nil {
		return fmt.Errorf("installer: registry %s\\%s: %w", it.Hive, it.Key, err)
	}
	return nil
}

// remove deletes the key for a default value (the native-messaging keys are
// Kyso's own) and only the value otherwise (the Run key is shared).
func (systemRegistry) remove(it Item) error {
	root, err := rootKey(it.Hive)
	if err != nil {
		return err
	}
	if it.Name == "" {
		err = registry.DeleteKey(root, it.Key)
	} else {
		var k registry.Key
		k, err = registry.OpenKey(root, it.Key, registry.SET_VALUE)
		if err == nil {
			err = k.DeleteValue(it.Name)
			k.Close()
		}
	}
	if err != nil && !errors.Is(err, registry.ErrNotExist) {
		return fmt.Errorf("installer: registry %s\\%s: %w", it.Hive, it.Key, err)
	}
	return nil
}

func (systemRegistry) get(hive, key, name string) (string, error) {
	root, err := rootKey(hive)
	if err != nil {
		return "", err
	}
	k, err := registry.OpenKey(root, key, registry.QUERY_VALUE)
	if err != nil {
		return "", err
	}
	defer k.Close()
	v, _, err := k.GetStringValue(name)
	return v, err
}
