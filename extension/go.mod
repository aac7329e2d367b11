// This file only keeps the Go tool out of extension/: npm puts packages
// there (node_modules) that ship Go sources of their own, which `go test
// ./...` and `go vet ./...` of the main module must not pick up.
module kyso.vn/kyso/extension

go 1.26.0
