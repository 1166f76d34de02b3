//! See `eravm_diff::drive::libfuzzer::decode_pubdata`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| eravm_diff::drive::libfuzzer::decode_pubdata(data));
