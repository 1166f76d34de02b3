#!/usr/bin/env bash
# Throughput on this machine, measured the only way a shared 2-core machine allows: runs of each
# configuration alternated, several rounds, medians reported (a single run can be 20 % off).
#
#   outcome     fuzz --seed 1 --samples 1200, the default oracle (every divergence named)
#   steps       the same samples with --oracle steps
#   fuzz64      fuzz --seed 1 --samples 64: the first epoch's inputs of the campaign below
#   campaign64  campaign --seed 1 --samples 64: one epoch, all of its inputs fresh, so the same
#               batches as fuzz64 (mutated corpus inputs come after the first epoch)
#   fuzz1280    fuzz --seed 1 --samples 1280
#   campaign1280  campaign --seed 1 --samples 1280: 20 epochs, two samples in three mutated
#               corpus inputs, against fuzz1280's fresh ones (what a real campaign runs)
#   frame       fuzz --level frame --seed 1 --samples 20000: generated frames straight on zk_evm
#               and zksync_vm2, every instruction compared
#   generated/s instructions of generated code executed per second, from `coverage --json`
#               (every instruction recorded on both VMs at either level): batch level with
#               --samples 300, frame level with --samples 4000
#
# Then the ratios issue 28 asks for (frame / outcome executions, frame / batch generated
# instructions), and, if cargo-fuzz is installed, `cargo fuzz run diff_frame` for 60 s in one
# process, built without sanitizers (-s none) as ci/clusterfuzzlite.sh builds it.
#
# All in the `programs` profile: it has no seeds, so a campaign's first epoch is all fresh
# inputs, and the figures compare with those measured before profiles existed.
#
#   ci/throughput.sh [ROUNDS]     (default 5; release build; JOBS=2 by default)
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-5}
jobs=${JOBS:-2}
cargo build -q --release -p eravm-diff
bin=target/release/eravm-diff
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Prints the executions per second of one run of "$@" (exit 1, new findings, is fine).
rate() {
  local out status=0
  rm -rf "$work/run"
  out=$("$bin" "$@" 2>&1) || status=$?
  [ "$status" -le 1 ] || { echo "$out" >&2; exit 2; }
  echo "$out" | sed -n -e 's/.*: \([0-9.]*\) executions\/s.*/\1/p' \
    -e 's/.* executions in .* (\([0-9.]*\)\/s).*/\1/p'
}

# Prints the generated instructions per second of one `coverage` run with arguments "$@".
generated() {
  local out status=0
  out=$("$bin" coverage --seed 1 --jobs "$jobs" --json "$@" 2>/dev/null) || status=$?
  [ "$status" -le 1 ] || { echo "coverage $* failed" >&2; exit 2; }
  echo "$out" | sed -n 's/^ *"generated_per_second": \([0-9.]*\),*$/\1/p' |
    awk '{ printf "%.0f", $1 }'
}

declare -A runs
for round in $(seq "$rounds"); do
  runs[outcome]+="$(rate fuzz --profile programs --seed 1 --samples 1200 --jobs "$jobs" --findings "$work/run") "
  runs[steps]+="$(rate fuzz --profile programs --seed 1 --samples 1200 --jobs "$jobs" --oracle steps --findings "$work/run") "
  runs[fuzz64]+="$(rate fuzz --profile programs --seed 1 --samples 64 --jobs "$jobs" --findings "$work/run") "
  runs[campaign64]+="$(rate campaign --profile programs --seed 1 --samples 64 --jobs "$jobs" \
    --corpus "$work/run/corpus" --findings "$work/run/findings") "
  runs[fuzz1280]+="$(rate fuzz --profile programs --seed 1 --samples 1280 --jobs "$jobs" --findings "$work/run") "
  runs[campaign1280]+="$(rate campaign --profile programs --seed 1 --samples 1280 --jobs "$jobs" \
    --corpus "$work/run/corpus" --findings "$work/run/findings") "
  runs[frame]+="$(rate fuzz --level frame --seed 1 --samples 20000 --jobs "$jobs" --findings "$work/run") "
  runs[generated_batch]+="$(generated --profile programs --samples 300) "
  runs[generated_frame]+="$(generated --level frame --samples 4000) "
  echo "round $round of $rounds done" >&2
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
printf '%-16s %10s   %s\n' configuration median "runs (exec/s, or instructions/s)"
for name in outcome steps fuzz64 campaign64 fuzz1280 campaign1280 frame generated_batch \
  generated_frame; do
  printf '%-16s %10s   %s\n' "$name" "$(echo "${runs[$name]}" | median)" "${runs[$name]}"
done
ratio() { awk -v a="$(echo "${runs[$1]}" | median)" -v b="$(echo "${runs[$2]}" | median)" \
  'BEGIN { printf "%.1f", a / b }'; }
echo "frame level: $(ratio frame outcome) x the batch level's executions/s (outcome oracle)," \
  "$(ratio generated_frame generated_batch) x its generated instructions/s"

if command -v cargo-fuzz >/dev/null && rustup toolchain list | grep -q '^nightly'; then
  cargo +nightly fuzz build -O -s none diff_frame >/dev/null 2>&1
  mkdir -p "$work/corpus"
  [ -d corpora/diff_frame ] && cp -r corpora/diff_frame/. "$work/corpus/"
  stats=$(cargo +nightly fuzz run -O -s none diff_frame "$work/corpus" -- -max_total_time=60 \
    -print_final_stats=1 -artifact_prefix="$work/" 2>&1 || true)
  echo "cargo fuzz run diff_frame, 60 s, one process:" \
    "$(echo "$stats" | sed -n 's/^stat::average_exec_per_sec: *//p') executions/s"
else
  echo "cargo fuzz run diff_frame: not measured (cargo-fuzz or nightly missing;" \
    "ci/clusterfuzzlite.sh installs both)"
fi
