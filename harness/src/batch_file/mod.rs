//! Batch files: the YAML that people write batches in, and how a file becomes a world and a
//! VM-level [`crate::batch::Batch`]; and frame files, the YAML of frame-level runs.

mod file;
mod frame;
mod keys;
mod prepare;
mod values;

pub use self::{
    file::{
        BalanceSpec, BatchFile, BlockSpec, ContractSpec, DeployTxSpec, Expectation, FactoryDepSpec,
        L1BatchSpec, L1TxSpec, L2TxSpec, Party, StorageSpec, TxSpec,
    },
    frame::{FrameCall, FrameFile, DEFAULT_CALLER},
    keys::{test_key, test_key_address},
    prepare::{
        batch_files_in, files_in, load_batch_file, load_input_file, parse_batch_file,
        parse_input_file, write_batch_file, write_frame_file, InputFile, PreparedBatch,
    },
    values::Quantity,
};
