//! eravm-diff: differential testing of EraVM implementations.
//!
//! A [`world::World`] and a [`batch::Batch`] go to every [`engine::Engine`]; each returns an
//! [`outcome::Outcome`] (and, when asked, a [`steps::StepTrace`]); [`divergence::compare`] and
//! [`divergence::explain::explain`] say whether they agree and, if not, where.
//! [`pipeline::Differential`] is that whole step, and every driver in [`drive`] runs batches
//! through it. The modules are layered: each imports only from the ones listed before it in
//! docs/architecture.md (`tests/layers.rs` checks it).

// What a VM is given and what it reports.
pub mod batch;
pub mod batch_file;
pub mod frame;
pub mod isa;
pub mod key;
pub mod outcome;
pub mod pubdata;
pub mod steps;
pub mod support;
pub mod world;

// Running and comparing.
pub mod chain;
pub mod divergence;
pub mod engine;
pub mod findings;
pub mod pipeline;

// Searching and telling.
pub mod drive;
pub mod generate;
pub mod report;
