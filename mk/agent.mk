# The agent (kyso serve): its per-OS files (named pipe on Windows, peer
# credentials on macOS) must at least vet for every OS Kyso ships for,
# although only Linux runs the tests here.
.PHONY: agent-cross
agent-cross:
	GOOS=windows CGO_ENABLED=0 go vet ./agent/ ./internal/logging/ ./internal/rundir/ ./internal/limits/ ./internal/filetrust/
	GOOS=darwin CGO_ENABLED=0 go vet ./agent/ ./internal/logging/ ./internal/rundir/ ./internal/limits/ ./internal/filetrust/

TEST_EXTRA += agent-cross
