#!/usr/bin/env bash
# Scale figures of care's durable Step Functions engine:
#  1. N executions parked on a Wait 30 days out (default 1,000,000): creation
#     time and rate, resident memory (VmRSS, VmHWM), heap, database size; then
#     DUE more (default 10,000) that all come due at one moment, and the lag
#     between that moment and each one's completion (p50/p99/max).
#  2. One execution of a single inline Map over ITEMS items (default 10,000):
#     transitions per second.
# Each run uses a fresh engine in a temporary directory (removed afterwards;
# 1,000,000 parked executions need a few GB of free space in $TMPDIR).
#
#   scripts/sfn-bench-parked.sh
#   N=100000 DUE=10000 ITEMS=10000 C=64 scripts/sfn-bench-parked.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/.tools/bin"
(cd "$root" && go build -o "$root/.tools/bin/care" ./cmd/care)
care=$root/.tools/bin/care

"$care" sfn bench --parked "${N:-1000000}" --due "${DUE:-10000}" --concurrency "${C:-64}"
"$care" sfn bench --map "${ITEMS:-10000}"
