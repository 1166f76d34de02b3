#!/bin/bash -eu
# Builds the cargo-fuzz targets for ClusterFuzzLite / OSS-Fuzz and packs their seed corpora.
# -O: no debug assertions or overflow checks, as everywhere in eravm-diff (the VMs must behave as
# in release). The known divergences of vectors/ are compiled into the targets.
# CARGO_FUZZ_FLAGS adds flags to `cargo fuzz build` (ci/clusterfuzzlite.sh: `-s none`).
cd "$SRC/eravm-diff"
cargo fuzz build -O ${CARGO_FUZZ_FLAGS:-}
for target in diff_batch diff_dump diff_frame load_inputs decode_pubdata; do
  cp "fuzz/target/x86_64-unknown-linux-gnu/release/$target" "$OUT/"
  if [ -d "corpora/$target" ]; then
    (cd "corpora/$target" && zip -q -r "$OUT/${target}_seed_corpus.zip" .)
  fi
done
