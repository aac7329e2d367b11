# Fuzzing (issue 8, docs/fuzzing.md). The seed corpora (f.Add and
# <pkg>/testdata/fuzz/) run in `make test` through go test ./...; this
# target fuzzes, so it is not in TEST_EXTRA.
#   make fuzz                      each target for FUZZTIME, one after another
#   make fuzz FUZZ=FuzzHandle      one target
#   make fuzz FUZZTIME=30s FUZZPAR=2
# A crasher is written to <pkg>/testdata/fuzz/<target>/; the other targets
# still run and `make fuzz` fails at the end. A bare "context deadline
# exceeded" with no crasher at the end of FUZZTIME is Go's coordinator race
# (go.dev/issue/75804, fixed in Go 1.27), not a finding: it is not counted.
FUZZTIME ?= 10m
FUZZPAR ?= 1
# How long Go minimizes each new interesting input (its default, 60s, can
# stall a target with large seeds such as FuzzPrepare's real PDFs for
# minutes; execs during minimization are not counted).
FUZZMIN ?= 10s
FUZZ ?=
FUZZ_TARGETS := engine:FuzzHandle engine:FuzzParseOrigin engine:FuzzPatternMatch engine:FuzzSettings \
  internal/frame:FuzzRead internal/frame:FuzzWriteRead host:FuzzParseEnvelope internal/wire:FuzzParse \
  document/xmldsig:FuzzPrepare \
  document/pdf:FuzzPrepare document/pdf:FuzzLexer document/cms:FuzzVerify

.PHONY: fuzz
fuzz:
	@failed=; for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; name=$${t##*:}; \
	  if [ -n "$(FUZZ)" ] && [ "$(FUZZ)" != "$$name" ]; then continue; fi; \
	  echo "== $$name in ./$$pkg for $(FUZZTIME)"; \
	  log=$$(mktemp); \
	  go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMIN) -parallel $(FUZZPAR) ./$$pkg/ 2>&1 | tee $$log; \
	  if [ $${PIPESTATUS[0]} -ne 0 ]; then \
	    if grep -q 'context deadline exceeded' $$log && ! grep -q 'Failing input written' $$log; then \
	      echo "fuzz: $$name: Go's end-of-fuzztime race (go.dev/issue/75804), no crasher: not counted"; \
	    else failed="$$failed $$name"; fi; \
	  fi; rm -f $$log; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: failed:$$failed (crashers in <pkg>/testdata/fuzz/)"; exit 1; fi
