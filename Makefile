.PHONY: check test faults proto build bench bench-large galera

# The README's test command, with the checks CI runs before it.
check:
	bash .ci/run

test:
	go test -race -shuffle=on -count=1 ./...

# The crash scenario at its full size (RELIABILITY.md): the clients keep
# going until 10,000 writes are acknowledged, through 3 SIGKILLs of the
# daemon, on MariaDB and SQLite. STOCKWATCH_TEST_MYSQL must name a server;
# STOCKWATCH_FAULT_WRITES=n sets another size. About a minute on 2 cores.
faults:
	CI=true STOCKWATCH_FAULT_WRITES=$${STOCKWATCH_FAULT_WRITES:-10000} \
		go test -race -count=1 -timeout 30m -v -run '^TestCrashDuringWrites$$' ./internal/faults/

proto:
	./scripts/protogen.sh

build:
	CGO_ENABLED=0 go build -trimpath -o bin/ ./cmd/...

# The benchmark harness: the daemon and the ceiling server under closed-loop
# gRPC load on MariaDB and SQLite, price-query scaling and the collector's
# cycle time; markdown report in /tmp. About 14 minutes on 2 cores; a
# 5,000-ticker collector cycle (BENCHMARKS.md's target) adds 4 (both backends):
# make bench BENCH_ARGS='-collector-tickers 100,1000,5000'.
bench:
	./scripts/bench.sh harness $(BENCH_ARGS)

# How the price reads grow with the table (BENCHMARKS.md): GetLatestPrice,
# GetAveragePrice(100) and the PointRead ceiling on MariaDB at 10,000,
# 1,000,000 and 10,000,000 price rows, same users and tickers, in one run;
# p50 of 10,000,000 over 10,000 rows in the growth table. Needs about 3 GB
# on the MariaDB server; minutes of preload, then about 4 minutes.
bench-large:
	./scripts/bench.sh large $(BENCH_ARGS)

# A 3-node MariaDB Galera cluster on 127.0.0.1:3311-3313 (docs/galera.md);
# scripts/galera.sh status|kill N|start N|down operates it.
galera:
	./scripts/galera.sh up
