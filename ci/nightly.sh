#!/usr/bin/env bash
# The nightly run: a campaign for a time budget (it minimizes new findings as it goes and writes
# the reports when it ends). Exits non-zero only for new, unexplained divergences (1) or a
# failure (2). After vectors explain new findings, `eravm-diff report --findings DIR` rewrites
# the reports.
#
#   ci/nightly.sh [BUDGET]          (default 30m; e.g. 2m, 90s, 4h)
#
# Environment: NIGHTLY_DIR (default nightly/; its corpus/ is worth keeping between nights),
# NIGHTLY_SEED (default today's date: each night a new campaign; rerunning the same day resumes
# it), NIGHTLY_JOBS (default: all cores), NIGHTLY_LEVEL (`batch`, the default, or `frame`: the
# campaign at frame level, with its own corpus, frame-corpus/, and findings, frame-findings-SEED/),
# NIGHTLY_WORLD (the batch level's `--world`, default `default`; e.g.
# genesis:$ZKSYNC_HOME/core/genesis_export.bin), NIGHTLY_CONTRACTS (a `--contracts` directory of
# *.hex contracts for the contracts profile; none by default).
# With GITHUB_STEP_SUMMARY set, the Markdown report is appended to the job summary.
set -uo pipefail
cd "$(dirname "$0")/.."

budget=${1:-30m}
dir=${NIGHTLY_DIR:-nightly}
seed=${NIGHTLY_SEED:-$(date -u +%Y%m%d)}
jobs=${NIGHTLY_JOBS:-$(nproc)}
level=${NIGHTLY_LEVEL:-batch}
case "$level" in
  batch) prefix= ;;
  frame) prefix=frame- ;;
  *) echo "NIGHTLY_LEVEL must be batch or frame, not $level" >&2; exit 2 ;;
esac
corpus="$dir/${prefix}corpus"
findings="$dir/${prefix}findings-$seed"

cargo build --release -p eravm-diff || exit 2
status=0
inputs=(--world "${NIGHTLY_WORLD:-default}")
if [ -n "${NIGHTLY_CONTRACTS:-}" ]; then inputs+=(--contracts "$NIGHTLY_CONTRACTS"); fi
target/release/eravm-diff campaign --level "$level" --duration "$budget" --seed "$seed" \
  --jobs "$jobs" --corpus "$corpus" --findings "$findings" --vectors vectors "${inputs[@]}" \
  || status=$?
[ "$status" -le 1 ] || exit "$status"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  cat "$findings/report.md" >>"$GITHUB_STEP_SUMMARY"
fi
echo "reports: $findings/report.json $findings/report.md $findings/report.html"
exit "$status"
