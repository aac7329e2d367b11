package pkcs11

import (
	"fmt"
	"os"
)

// checkModuleFile only checks that the module exists on Windows: vendors
// install their DLLs into System32 or Program Files, which only
// administrators can write; checking arbitrary ACLs is not done yet
// (SECURITY.md).
func checkModuleFile(path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("module %s: %w", path, err)
	}
	return nil
}
