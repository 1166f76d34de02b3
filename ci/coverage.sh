#!/usr/bin/env bash
# Reach and speed of the generator, per profile: the coverage model's reachable cells reached by
# SAMPLES samples of seed 1 (`coverage --json`), and fuzz executions/s on the first 1200 samples
# (the median of ROUNDS runs, alternated with the BEFORE build when one is given, as
# ci/throughput.sh does).
#
#   ci/coverage.sh [SAMPLES] [ROUNDS]    (defaults 10000 and 3; release build; JOBS=2)
#   BEFORE=/path/to/older/eravm-diff ci/coverage.sh   (the same figures for an older build)
set -euo pipefail
cd "$(dirname "$0")/.."

samples=${1:-10000}
rounds=${2:-3}
jobs=${JOBS:-2}
cargo build -q --release -p eravm-diff
builds=(target/release/eravm-diff ${BEFORE:-})
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Prints the executions per second of one `fuzz` run of build $1 in profile $2.
rate() {
  local out status=0
  rm -rf "$work/run"
  out=$("$1" fuzz --profile "$2" --seed 1 --samples 1200 --jobs "$jobs" --findings "$work/run" 2>&1) || status=$?
  [ "$status" -le 1 ] || { echo "$out" >&2; exit 2; }
  echo "$out" | sed -n -e 's/.*: \([0-9.]*\) executions\/s.*/\1/p'
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Speed first (quiet machine wanted), then reach (counts do not depend on load).
declare -A runs=()
for round in $(seq "$rounds"); do
  for profile in programs contracts mixed; do
    for build in "${builds[@]}"; do
      runs[$build,$profile]+="$(rate "$build" "$profile") "
    done
  done
  echo "speed: round $round of $rounds done" >&2
done
printf '%-7s %-10s %10s %10s %8s %10s\n' build profile reached reachable share "exec/s"
for profile in programs contracts mixed; do
  for build in "${builds[@]}"; do
    json=$("$build" coverage --profile "$profile" --seed 1 --samples "$samples" --jobs "$jobs" --json 2>/dev/null || true)
    reached=$(echo "$json" | sed -n 's/^ *"reached": \([0-9]*\),*$/\1/p')
    reachable=$(echo "$json" | sed -n 's/^ *"reachable": \([0-9]*\),*$/\1/p')
    share=$(awk -v a="$reached" -v b="$reachable" 'BEGIN { printf "%.1f%%", 100 * a / b }')
    name=after; [ "$build" = target/release/eravm-diff ] || name=before
    printf '%-7s %-10s %10s %10s %8s %10s\n' "$name" "$profile" "$reached" "$reachable" "$share" \
      "$(echo "${runs[$build,$profile]}" | median)"
  done
done
