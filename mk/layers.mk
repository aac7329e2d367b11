# Layering (README "Repository map"): the engine, the agent and the
# installer build without cgo — only token/pkcs11 (and the programs that
# link it: cmd/kyso, the bench) needs a C toolchain. `go test ./internal/layers`
# checks who may import whom.
.PHONY: nocgo
nocgo:
	CGO_ENABLED=0 go build ./engine/... ./agent/... ./installer/... ./host/... ./token

TEST_EXTRA += nocgo
