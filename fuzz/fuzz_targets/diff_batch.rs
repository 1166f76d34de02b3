//! See `eravm_diff::drive::libfuzzer::diff_batch`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| eravm_diff::drive::libfuzzer::diff_batch(data));
