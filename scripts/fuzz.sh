#!/usr/bin/env bash
# Runs every Go fuzz target of the module for a short time, one at a time
# (go test takes one -fuzz target per run), and stops at the first failure.
# Prints one line per target:
#
#   ok    FuzzParseChart  ./internal/yahoo  5s  execs 412345  corpus 38
#
#   ./scripts/fuzz.sh                       # 5s per target
#   FUZZTIME=1m ./scripts/fuzz.sh           # longer
#   FUZZ='Chart|Quote' ./scripts/fuzz.sh    # targets whose name matches (grep -E)
#
# A failure prints go test's output; the input that failed is saved under
# the package's testdata/fuzz/<Target>/, where `go test` (without -fuzz)
# replays it from then on: commit it with the fix. Each target's seeds are
# its f.Add calls plus the checked-in files in that directory.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime="${FUZZTIME:-5s}"
filter="${FUZZ:-.}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

# "DIR TARGET" per line, sorted, for every func FuzzXxx(f *testing.F).
targets=$(grep -rl --include='*_test.go' --exclude-dir=.git --exclude-dir=testdata --exclude-dir=vendor -E '^func Fuzz' . |
  while read -r file; do
    for name in $(sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(.*\*testing\.F\).*/\1/p' "$file"); do
      echo "$(dirname "$file") $name"
    done
  done | sort | grep -E " .*(${filter})" || true)
if [ -z "$targets" ]; then
  echo "fuzz: no fuzz targets match ${filter}" >&2
  exit 1
fi

n=0
while read -r dir name; do
  start=$SECONDS
  if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$dir" >"$log" 2>&1; then
    printf 'FAIL  %-16s %-18s\n' "$name" "$dir"
    cat "$log"
    new=$(find "$dir/testdata/fuzz/$name" -newer "$log" -type f 2>/dev/null || true)
    [ -n "$new" ] && echo "fuzz: failing input saved as $new; go test -run '^${name}\$' $dir replays it"
    exit 1
  fi
  # go test prints "fuzz: elapsed: 5s, execs: 123 (25/sec), new interesting: 1 (total: 9)".
  execs=$(grep -oE 'execs: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo "?")
  corpus=$(grep -oE '\(total: [0-9]+\)' "$log" | tail -1 | grep -oE '[0-9]+' || echo "?")
  printf 'ok    %-16s %-18s %4ss  execs %-9s corpus %s\n' "$name" "$dir" "$((SECONDS - start))" "$execs" "$corpus"
  n=$((n + 1))
done <<<"$targets"
echo "fuzz: ${n} targets passed, ${fuzztime} each"
