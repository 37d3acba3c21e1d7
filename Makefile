# The one test command is `make test` (README and .ci/run call it).
.PHONY: test vet fmt cover bench

test:
	@bash scripts/test.sh

vet:
	go vet ./...

fmt:
	gofmt -l -w .

cover:
	go test -cover ./...

# Benchmarks beside go-oauth2 and fosite; writes docs/performance.md.
# Overrides: BENCH_COUNT, BENCHTIME, JWT_BENCHTIME, BENCH.
bench:
	@bash scripts/bench.sh
