#!/usr/bin/env bash
# Counts instructions per operation with callgrind for the SUIT example
# benchmarks, so that the overhead of decode + authenticate + process over a
# bare ecdsa.Verify can be read without the noise of a shared machine.
# Per-op count = (run with N+1 iterations - run with 1) / N.
# Usage: docs/bench-instructions.sh [N]   (needs valgrind)
set -euo pipefail
n=${1:-100}
cd "$(dirname "$0")/.."
bin=$(mktemp -d)/dryrun.test
go test -c -o "$bin" ./secure/suit/dryrun/
cd secure/suit/dryrun
count() { # sub-benchmark, iterations
  GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    "$bin" -test.run='^$' -test.bench="^BenchmarkExamples\$/^${1%%/*}\$/^${1#*/}\$" -test.benchtime="$2x" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
per_op() { echo $(( ($(count "$1" $((n + 1))) - $(count "$1" 1)) / n )); }
printf '%-18s %12s %12s %12s %8s\n' example full/op process/op ecdsa/op full:ecdsa
for ex in ${EXAMPLES:-example0 example1 example2 example2-severed example3 example4 example5}; do
  full=$(per_op "$ex/full"); proc=$(per_op "$ex/process-only"); ecdsa=$(per_op "$ex/ecdsa-verify")
  printf '%-18s %12d %12d %12d %8s\n' "$ex" "$full" "$proc" "$ecdsa" "$(awk -v a="$full" -v b="$ecdsa" 'BEGIN{printf "%.3f", a/b}')"
done
