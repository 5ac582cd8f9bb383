#!/usr/bin/env bash
# Stockwatch's benchmarks (BENCHMARKS.md), in three modes.
#
# harness (what `make bench` runs): builds the daemon and
# cmd/stockwatch-bench, then runs `stockwatch-bench run`, which starts the
# real daemon and a ceiling server as processes of their own on MariaDB
# and SQLite and drives them with a closed-loop gRPC load generator (see
# BENCHMARKS.md). Extra arguments are its flags and override the defaults
# below; the markdown report goes to $OUT (default /tmp/stockwatch-harness-*.md).
#
#   ./scripts/bench.sh harness
#   ./scripts/bench.sh harness -collector-tickers 100,1000,5000 -backends mysql
#
# large (what `make bench-large` runs): harness on MariaDB only, for the
# growth of the price reads with the table: GetLatestPrice,
# GetAveragePrice(100) and the PointRead ceiling at 10,000, 1,000,000 and
# 10,000,000 price rows (10,000 users over 1,000 tickers at every size, a
# database each, sizes alternating run by run), at concurrency 1 and 16.
# Extra arguments override these flags too. The 10,000,000-row preload
# takes minutes and about 3 GB of the server's disk.
#
#   ./scripts/bench.sh large
#   ./scripts/bench.sh large -prices 10000,1000000   # a smaller check
#
# go (the default, also with no argument): the Go benchmarks (the API
# through a real gRPC server in the test binary, the store without it, and
# their ceilings) on SQLite and on MariaDB/MySQL; keeps the raw output under
# /tmp and prints each benchmarked RPC as a ratio to the ceiling measured in
# the same run.
#
#   ./scripts/bench.sh                 # 2s per benchmark, once
#   BENCHTIME=5s COUNT=3 ./scripts/bench.sh
#   BENCH='API/mysql' ./scripts/bench.sh        # a subset (a -bench regexp)
#   STOCKWATCH_BENCH_LARGE= ./scripts/bench.sh  # skips the 1,000,000-row scaling check
#
# STOCKWATCH_TEST_MYSQL names the MariaDB server (default the local one);
# set it to empty to benchmark SQLite only. STOCKWATCH_BENCH_CONCURRENCY sets
# the client goroutines (default 16, rounded up to a multiple of GOMAXPROCS).
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-go}"
case "$mode" in
harness)
  shift
  out="${OUT:-/tmp/stockwatch-harness-$(date +%Y%m%d-%H%M%S).md}"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  # Built as `make build` builds them, so the daemon is the shipped one.
  CGO_ENABLED=0 go build -trimpath -o "$tmp/" ./cmd/stockwatchd ./cmd/stockwatch-bench
  # Three interleaved rounds of 1s warm-up + 2s measured: the report's
  # figures and ratios are medians over the rounds.
  "$tmp/stockwatch-bench" run -daemon "$tmp/stockwatchd" -out "$out" -rounds 3 -duration 2s "$@"
  echo "report: $out" >&2
  exit 0
  ;;
large)
  shift
  exec "$0" harness -backends mysql -users 10000 -tickers 1000 -prices 10000,1000000,10000000 \
    -workloads PointRead,GetLatestPrice,GetAveragePrice -concurrency 1,16 \
    -scaling=false -collector-tickers '' "$@"
  ;;
go) if [ $# -gt 0 ]; then shift; fi ;;
*) echo "usage: $0 [go|harness|large [stockwatch-bench run flags]]" >&2; exit 2 ;;
esac

export STOCKWATCH_TEST_MYSQL="${STOCKWATCH_TEST_MYSQL-mysql://root@127.0.0.1:3306/test}"
# The 1,000,000-row preload takes ~10 s per backend here: on by default.
export STOCKWATCH_BENCH_LARGE="${STOCKWATCH_BENCH_LARGE-1}"
benchtime="${BENCHTIME:-2s}"
count="${COUNT:-1}"
bench="${BENCH:-.}"
out="${OUT:-/tmp/stockwatch-bench-$(date +%Y%m%d-%H%M%S).txt}"

# -p 1: one test binary at a time, or the packages would measure each other.
cmd=(go test -p 1 -run '^$' -bench "$bench" -benchtime "$benchtime" -count "$count" -timeout 60m ./internal/api/ ./internal/store/)
echo "# ${cmd[*]}" | tee "$out"
echo "# STOCKWATCH_TEST_MYSQL=${STOCKWATCH_TEST_MYSQL:+set} STOCKWATCH_BENCH_LARGE=${STOCKWATCH_BENCH_LARGE:-} nproc=$(nproc) $(go version)" | tee -a "$out"
"${cmd[@]}" 2>&1 | tee -a "$out"
echo
echo "raw output: $out"
echo

# Medians over -count runs of ns/op and p99-ns per benchmark, then the
# ratios. Throughput ratio = ceiling ns/op / RPC ns/op (= RPC ops/s over
# the ceiling's ops/s); p99 ratio = RPC p99 / ceiling p99.
awk '
function median(s,   a, n, i, j, t) {
	n = split(s, a, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return (n % 2) ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	for (i = 3; i < NF; i += 2) vals[name SUBSEP $(i+1)] = vals[name SUBSEP $(i+1)] " " $i
	seen[name] = 1
}
function get(name, unit) { return ((name SUBSEP unit) in vals) ? median(vals[name SUBSEP unit]) : "" }
function row(prefix, rpc, ceil, target, p99target,   r, c, tp, pr) {
	r = get(prefix "/" rpc, "ns/op"); c = get(prefix "/" ceil, "ns/op")
	if (r == "" || c == "") return
	tp = c / r
	line = sprintf("%-44s %-14s %6.2f  %-8s", substr(prefix "/" rpc, 10), ceil, tp, ">= " target)
	line = line sprintf(" %s", tp >= target ? "met" : sprintf("MISSED by %.1f%%", (target - tp) / target * 100))
	if (p99target != "") {
		pr = get(prefix "/" rpc, "p99-ns") / get(prefix "/" ceil, "p99-ns")
		line = line sprintf("   p99 %.2f (<= %s: %s)", pr, p99target, pr <= p99target ? "met" : "MISSED")
	}
	print line
}
END {
	printf "%-44s %-14s %6s  %-8s %s\n", "benchmark", "vs ceiling", "ratio", "target", "verdict"
	for (n in seen) if (n ~ /\/Ceiling\/Read$/) { p = n; sub(/\/Ceiling\/Read$/, "", p); prefixes[p] = 1 }
	np = 0; for (p in prefixes) list[++np] = p
	for (i = 2; i <= np; i++) for (j = i; j > 1 && list[j-1] > list[j]; j--) { t = list[j]; list[j] = list[j-1]; list[j-1] = t }
	for (i = 1; i <= np; i++) {
		p = list[i]
		row(p, "GetLatestPrice", "Ceiling/Read", 0.9, 1.5)
		row(p, "GetAveragePrice", "Ceiling/Read", 0.7, "")
		row(p, "RegisterUser", "Ceiling/Write", 0.8, "")
		row(p, "UpdateUser", "Ceiling/Write", 0.8, "")
		row(p, "LatestPrice", "Ceiling/Read", 0.9, 1.5)
		row(p, "AveragePrice", "Ceiling/Read", 0.7, "")
		row(p, "CreateUserOnce", "Ceiling/Write", 0.8, "")
		row(p, "GetLatestPrice", "Ceiling/PointRead", 0.9, 1.5)
		row(p, "GetAveragePrice", "Ceiling/PointRead", 0.85, 1.5)
		row(p, "GetAveragePrice10000", "Ceiling/PointRead", 0.5, 1.5)
		row(p, "RegisterUser", "Ceiling/Insert", 0.8, "")
		row(p, "LatestPrice", "Ceiling/PointRead", 0.9, 1.5)
		row(p, "AveragePrice", "Ceiling/PointRead", 0.85, 1.5)
		row(p, "AveragePrice10000", "Ceiling/PointRead", 0.5, 1.5)
		row(p, "CreateUserOnce", "Ceiling/Insert", 0.8, "")
	}
	# Scaling: p50 at the largest size over p50 at the smallest.
	for (n in seen) if (n ~ /^BenchmarkScaling\/.*\/rows=[0-9]+\/Get/) {
		split(n, f, "/"); be = f[2]; rows = substr(f[3], 6); rpc = f[4]
		k = be SUBSEP rpc
		if (!(k in lo) || rows + 0 < lo[k] + 0) lo[k] = rows
		if (!(k in hi) || rows + 0 > hi[k] + 0) hi[k] = rows
	}
	hdr = 0
	for (k in lo) if (hi[k] != lo[k]) {
		if (!hdr++) print "\nscaling (p50 at " "largest / smallest size; target <= 1.2)"
		split(k, f, SUBSEP)
		a = get("BenchmarkScaling/" f[1] "/rows=" hi[k] "/" f[2], "p50-ns")
		z = get("BenchmarkScaling/" f[1] "/rows=" lo[k] "/" f[2], "p50-ns")
		printf "%-8s %-16s %s/%s rows: %.3f %s\n", f[1], f[2], hi[k], lo[k], a / z, a / z <= 1.2 ? "met" : "MISSED"
	}
}' "$out" | tee -a "$out.ratios"
