//! See `eravm_diff::drive::libfuzzer::diff_frame`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| eravm_diff::drive::libfuzzer::diff_frame(data));
