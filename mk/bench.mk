# Benchmarks (issue 7): `make bench` measures Kyso against its floors and
# regenerates docs/benchmarks.md, docs/benchmarks-batch.svg and
# bench/results.json (about 3 minutes). Not part of `make test`: it takes
# minutes and its figures depend on the machine.
# `make bench BENCH_QUICK=1` is a smoke run (under a minute) that writes to
# bin/bench/quick/ and leaves the committed figures alone.
# BENCH_FLAGS passes more flags: -profile (agent CPU profile to
# bin/bench/agent.pprof), -keep (keep the temp dir with tokens and logs).
.PHONY: bench bench-bin
BENCH_QUICK ?=
BENCH_FLAGS ?=
BENCH_OUT = $(if $(BENCH_QUICK),-quick -json bin/bench/quick/results.json -doc bin/bench/quick/benchmarks.md -svg bin/bench/quick/benchmarks-batch.svg,-json bench/results.json -doc docs/benchmarks.md -svg docs/benchmarks-batch.svg)

bench-bin: build fault
	@mkdir -p bin/bench
	go build -o bin/bench/kyso-bench ./bench
	go build -o bin/bench/minhost ./bench/minhost
	CGO_ENABLED=1 go build -tags mincgo -o bin/bench/minhost-cgo ./bench/minhost
	CGO_ENABLED=1 go build -ldflags '$(LDFLAGS)' -o bin/bench/agentbench ./bench/agentbench

bench: bench-bin
	bin/bench/kyso-bench -kyso bin/kyso -agentbench bin/bench/agentbench -minhost bin/bench/minhost \
	  $(BENCH_OUT) $(BENCH_FLAGS)
