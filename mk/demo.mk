# The demo portal (demo/) and the real-browser end-to-end tests (e2e/).
# `make demo` (in the Makefile) runs demo/run.sh; these are for developers.
.PHONY: demo-portal e2e

# bin/kyso-demo: the portal alone (go run ./demo --port 8080 works too).
demo-portal:
	go build -o bin/kyso-demo ./demo

# The e2e tests alone, verbosely (make test runs them with go test ./...).
# They need the extension built into extension/build/chromium.
e2e: build
	KYSO_BIN=$(CURDIR)/bin/kyso go test -count=1 -v -timeout 10m ./e2e/
