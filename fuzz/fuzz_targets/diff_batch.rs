//! See `eravm_diff::drive::libfuzzer::diff_batch`.
#![no_main]

#[global_allocator]
static ALLOCATOR: eravm_diff::support::memory::Allocator = eravm_diff::support::memory::Allocator;

libfuzzer_sys::fuzz_target!(|data: &[u8]| eravm_diff::drive::libfuzzer::diff_batch(data));
