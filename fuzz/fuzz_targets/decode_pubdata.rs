//! See `eravm_diff::targets::decode_pubdata`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| eravm_diff::targets::decode_pubdata(data));
