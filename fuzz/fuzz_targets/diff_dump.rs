//! See `eravm_diff::drive::libfuzzer::diff_dump`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| eravm_diff::drive::libfuzzer::diff_dump(data));
