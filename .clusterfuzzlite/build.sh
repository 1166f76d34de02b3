#!/bin/bash -eu
# Builds the cargo-fuzz targets for ClusterFuzzLite / OSS-Fuzz and packs their seed corpora.
# -O: no debug assertions or overflow checks, as everywhere in eravm-diff (the VMs must behave as
# in release). The known divergences of vectors/ are compiled into the targets.
cd "$SRC/eravm-diff"
cargo fuzz build -O
for target in diff_batch diff_dump load_inputs; do
  cp "fuzz/target/x86_64-unknown-linux-gnu/release/$target" "$OUT/"
  (cd "corpora/$target" && zip -q -r "$OUT/${target}_seed_corpus.zip" .)
done
