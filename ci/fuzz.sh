#!/usr/bin/env bash
# Runs one cargo-fuzz target for a time budget, seeded from corpora/<target>/:
#   ci/fuzz.sh diff_batch 60 [extra libFuzzer flags...]
# libFuzzer writes new inputs to fuzz/corpus/<target>/ (ignored by git) and crashes to
# fuzz/artifacts/<target>/. Built with -O (no debug assertions, as everywhere else in this
# project) and without sanitizers (they multiply build time on this dependency tree).
set -euo pipefail
cd "$(dirname "$0")/.."

target=${1:?usage: ci/fuzz.sh TARGET SECONDS [libFuzzer flags...]}
seconds=${2:?usage: ci/fuzz.sh TARGET SECONDS [libFuzzer flags...]}
shift 2

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --version 0.13.2 --locked
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal

mkdir -p "fuzz/corpus/$target"
cp -n "corpora/$target/"* "fuzz/corpus/$target/" 2>/dev/null || true
exec cargo +nightly fuzz run -O -s none "$target" -- -max_total_time="$seconds" "$@"
