# Kyso build. `make demo` sets everything up and runs the demo;
# `make test` runs every test (installing system packages when missing).
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
VERSION ?= $(shell bash scripts/version.sh)
LDFLAGS := -X kyso.vn/kyso/engine.Version=$(VERSION)
GO_TEST_FLAGS ?= -count=1 -timeout 30m

.PHONY: all build deps fault test lint demo clean

# Each area may add its own targets in mk/<area>.mk, and append to TEST_EXTRA
# the targets `make test` must also run (beyond go test ./...).
TEST_EXTRA :=
-include mk/*.mk

all: build

build:
	CGO_ENABLED=1 go build -ldflags '$(LDFLAGS)' -o bin/kyso ./cmd/kyso

# The fault-injecting PKCS#11 module (tests only; never shipped).
fault: bin/libkysofault.so
bin/libkysofault.so: testdata/faultp11/faultp11.c
	@mkdir -p bin
	gcc -shared -fPIC -O2 -Wall -o $@ $< -ldl

deps:
	bash scripts/deps.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...

test: deps build fault lint $(TEST_EXTRA)
	KYSO_BIN=$(CURDIR)/bin/kyso KYSO_FAULT_MODULE=$(CURDIR)/bin/libkysofault.so \
	  go test $(GO_TEST_FLAGS) ./...

# The extension too: the demo opens Chromium with it (the extension path).
demo: deps build extension-build
	bash demo/run.sh

clean:
	rm -rf bin
