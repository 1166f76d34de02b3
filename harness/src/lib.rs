//! eravm-diff: differential testing of EraVM implementations.
//!
//! A [`world::World`] and a [`batch::Batch`] go to every [`engine::Engine`]; each returns an
//! [`outcome::Outcome`]; [`divergence::compare`] says whether they agree and, if not, where.
//! [`pipeline::Differential`] is that whole step, and every driver runs batches through it.

pub mod assembly;
pub mod batch;
pub mod bytes;
pub mod campaign;
pub mod coverage;
pub mod divergence;
pub mod engine;
pub mod error;
pub mod files;
pub mod findings;
pub mod fuzz;
pub mod generate;
pub mod matrix;
pub mod minimize;
pub mod outcome;
pub mod panic_guard;
pub mod pipeline;
pub mod pubdata;
pub mod release;
pub mod report;
pub mod samples;
pub mod spec;
pub mod steps;
pub mod targets;
pub mod vm_output;
pub mod world;
