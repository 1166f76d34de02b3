//! See `eravm_diff::drive::libfuzzer::load_inputs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| eravm_diff::drive::libfuzzer::load_inputs(data));
