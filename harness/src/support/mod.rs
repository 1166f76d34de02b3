//! What every layer uses: bytes and hex, errors that name their input, atomic files, panics
//! caught as data, what the VMs print, EraVM assembly, memory for many short executions, and
//! what zksync_multivm releases spell differently.

pub mod assembly;
pub mod bytes;
pub mod error;
pub mod files;
pub mod memory;
pub mod multivm_compat;
pub mod panic_guard;
pub mod vm_output;

/// Writes the name a command-line option takes for `value`.
pub fn value_name(
    value: &impl clap::ValueEnum,
    f: &mut std::fmt::Formatter<'_>,
) -> std::fmt::Result {
    let name = value.to_possible_value().expect("no variant is skipped");
    f.write_str(name.get_name())
}
