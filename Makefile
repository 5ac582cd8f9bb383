.PHONY: check test proto build bench

# The README's test command, with the checks CI runs before it.
check:
	bash .ci/run

test:
	go test -race -shuffle=on -count=1 ./...

proto:
	./scripts/protogen.sh

build:
	CGO_ENABLED=0 go build -trimpath -o bin/ ./cmd/...

# Issue 7's harness: the daemon and the ceiling server under closed-loop
# gRPC load on MariaDB and SQLite, price-query scaling and the collector's
# cycle time; markdown report in /tmp. About 14 minutes on 2 cores; the
# issue's 5,000-ticker collector cycle adds 4 (both backends):
# make bench BENCH_ARGS='-collector-tickers 100,1000,5000'.
bench:
	./scripts/bench.sh harness $(BENCH_ARGS)
