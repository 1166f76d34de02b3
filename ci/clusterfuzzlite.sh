#!/usr/bin/env bash
# Plays ClusterFuzzLite's part on this machine, so the scale-out path is exercised and not only
# configured: .clusterfuzzlite/build.sh with SRC and OUT set, then each built target for SECONDS
# on its unzipped seed corpus, as CF-Lite's batch fuzzing does. Run by the nightly workflow, not
# by .ci/run. Sanitizers are off (`-s none`): on this dependency tree they multiply build time;
# CF-Lite's own image builds with them.
#
#   ci/clusterfuzzlite.sh [SECONDS]     (default 30)
#
# Exits non-zero if the build fails or a target finds a crash (an unexplained divergence).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-30}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --version 0.13.2 --locked
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v zip >/dev/null && command -v unzip >/dev/null || {
  echo "ci/clusterfuzzlite.sh needs zip and unzip" >&2
  exit 2
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src" "$work/out"
ln -s "$PWD" "$work/src/eravm-diff"
SRC="$work/src" OUT="$work/out" CARGO_FUZZ_FLAGS="-s none" RUSTUP_TOOLCHAIN=nightly \
  bash .clusterfuzzlite/build.sh

status=0
for binary in "$work"/out/*; do
  [ -x "$binary" ] && [ -f "$binary" ] || continue
  target=$(basename "$binary")
  corpus="$work/corpus/$target"
  mkdir -p "$corpus"
  if [ -f "$work/out/${target}_seed_corpus.zip" ]; then
    unzip -q -o "$work/out/${target}_seed_corpus.zip" -d "$corpus"
  fi
  echo "== $target: ${seconds}s on $(find "$corpus" -type f | wc -l) seed inputs" >&2
  (cd "$work" && RUST_BACKTRACE=0 "$binary" "$corpus" -max_total_time="$seconds" -artifact_prefix="$work/$target-") \
    >"$work/$target.log" 2>&1 || {
    echo "$target failed: see below" >&2
    tail -40 "$work/$target.log" >&2
    status=1
  }
  grep -E '^(#[0-9]+ *DONE|Done [0-9]+ runs)' "$work/$target.log" >&2 || tail -2 "$work/$target.log" >&2
done
exit "$status"
