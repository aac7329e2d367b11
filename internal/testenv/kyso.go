package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	kysoOnce sync.Once
	kysoPath string
	kysoErr  error
)

// KysoBinary returns the path of the kyso binary: $KYSO_BIN when set (the
// Makefile's `make test` sets it to bin/kyso), else ./cmd/kyso built once
// per test process into a temp dir.
func KysoBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("KYSO_BIN"); p != "" {
		return p
	}
	kysoOnce.Do(func() {
		kysoPath, kysoErr = buildKyso()
	})
	if kysoErr != nil {
		t.Fatal(kysoErr)
	}
	return kysoPath
}

func buildKyso() (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	dir, err := mkTemp("kyso-bin-")
	if err != nil {
		return "", fmt.Errorf("testenv: %w", err)
	}
	out := filepath.Join(dir, "kyso")
	cmd := exec.Command(goTool(), "build", "-o", out, "./cmd/kyso")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("testenv: go build ./cmd/kyso: %w\n%s", err, b)
	}
	return out, nil
}

// goTool finds the go command: the one on PATH, else the toolchain that
// built this test.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}
