//! See `eravm_diff::targets::load_inputs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| eravm_diff::targets::load_inputs(data));
