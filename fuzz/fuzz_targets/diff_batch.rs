//! See `eravm_diff::targets::diff_batch`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| eravm_diff::targets::diff_batch(data));
