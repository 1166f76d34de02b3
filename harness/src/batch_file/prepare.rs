//! Turning a batch file into a world with the batch's set-up and a VM-level batch: contracts
//! assembled and deployed, balances and storage written, transactions signed.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
};

use zksync_multivm::utils::get_batch_base_fee;
use zksync_system_constants::{CONTRACT_DEPLOYER_ADDRESS, REQUIRED_L1_TO_L2_GAS_PER_PUBDATA_BYTE};
use zksync_types::{
    abi,
    bytecode::BytecodeHash,
    ethabi::{encode, short_signature, ParamType, Token},
    fee::Fee,
    l1::L1Tx,
    l2::L2Tx,
    transaction_request::PaymasterParams,
    u256_to_h256, AccountTreeId, Address, Execute, L1TxCommonData, Nonce, PriorityOpId, StorageKey,
    Transaction, H256, U256,
};

use super::{
    frame::FrameFile,
    keys::{test_key, test_key_address},
    BatchFile, BlockSpec, DeployTxSpec, Expectation, FactoryDepSpec, L1TxSpec, L2TxSpec, Party,
    TxSpec,
};
use crate::{
    batch::{Batch, Block},
    support::{
        assembly::assemble,
        bytes::HexBytes,
        error::{read_file, InputError},
        files::write_atomic,
    },
    world::{compiled, read_bytecode_hex, World},
};

/// Default `gas_per_pubdata_limit` of L2 transactions.
const L2_GAS_PER_PUBDATA_LIMIT: u64 = 50_000;

/// A batch file made ready to run: the world with its set-up, and the transactions.
#[derive(Debug, Clone)]
pub struct PreparedBatch {
    pub world: World,
    /// The first (or only) L1 batch.
    pub batch: Batch,
    /// The L1 batches that follow it in a chain. Each runs in the world the one before left
    /// behind, which only running that one tells: `PreparedBatch::walk` (`crate::chain`) runs them.
    pub chained: Vec<Batch>,
}

impl PreparedBatch {
    /// A single L1 batch in `world`.
    pub fn single(world: World, batch: Batch) -> Self {
        Self {
            world,
            batch,
            chained: vec![],
        }
    }

    /// The L1 batches in the chain.
    pub fn batches(&self) -> usize {
        1 + self.chained.len()
    }
}

/// A batch file or a frame file, told apart by a top-level `frame:` key.
#[derive(Debug, Clone, PartialEq)]
pub enum InputFile {
    Batch(BatchFile),
    Frame(FrameFile),
}

impl InputFile {
    /// Every verdict the file declares: its `expect`, and a batch file's per-world ones.
    pub fn declared(&self) -> impl Iterator<Item = &Expectation> {
        let (expect, worlds) = match self {
            Self::Batch(file) => (file.expect.as_ref(), Some(&file.worlds)),
            Self::Frame(file) => (file.expect.as_ref(), None),
        };
        let in_worlds = worlds.into_iter().flat_map(|worlds| worlds.values());
        expect
            .into_iter()
            .chain(in_worlds.map(|world| &world.expect))
    }
}

/// Reads and parses a YAML batch or frame file.
pub fn load_input_file(path: &Path) -> Result<InputFile, InputError> {
    let text = read_text(path)?;
    let mut input = parse_input_file(&path.display().to_string(), &text)?;
    let dir = path.parent().unwrap_or(Path::new(""));
    match &mut input {
        InputFile::Batch(file) => file.anchor_files(dir),
        InputFile::Frame(file) => file.anchor_files(dir),
    }
    Ok(input)
}

/// Parses YAML batch or frame text; `origin` names it in errors.
pub fn parse_input_file(origin: &str, text: &str) -> Result<InputFile, InputError> {
    if !is_frame_file(text) {
        return parse_batch_file(origin, text).map(InputFile::Batch);
    }
    serde_yaml::from_str(text)
        .map(InputFile::Frame)
        .map_err(|err| InputError::new(origin, format!("not a valid frame file: {err}")))
}

/// Reads and parses a YAML batch file.
pub fn load_batch_file(path: &Path) -> Result<BatchFile, InputError> {
    let text = read_text(path)?;
    let mut file = parse_batch_file(&path.display().to_string(), &text)?;
    file.anchor_files(path.parent().unwrap_or(Path::new("")));
    Ok(file)
}

/// Writes a batch file atomically.
pub fn write_batch_file(path: &Path, file: &BatchFile) -> std::io::Result<()> {
    let yaml = serde_yaml::to_string(file).map_err(std::io::Error::other)?;
    write_atomic(path, yaml.as_bytes())
}

/// Writes a frame file atomically.
pub fn write_frame_file(path: &Path, file: &FrameFile) -> std::io::Result<()> {
    let yaml = serde_yaml::to_string(file).map_err(std::io::Error::other)?;
    write_atomic(path, yaml.as_bytes())
}

/// Parses YAML batch text; `origin` names it in errors.
pub fn parse_batch_file(origin: &str, text: &str) -> Result<BatchFile, InputError> {
    if is_frame_file(text) {
        return Err(InputError::new(
            origin,
            "a frame file (top-level `frame:`), where a batch file is wanted",
        ));
    }
    serde_yaml::from_str(text)
        .map_err(|err| InputError::new(origin, format!("not a valid batch: {err}")))
}

fn read_text(path: &Path) -> Result<String, InputError> {
    let bytes = read_file(path)?;
    String::from_utf8(bytes).map_err(|err| InputError::at(path, format!("not UTF-8 text: {err}")))
}

/// Whether YAML text is a mapping with a `frame` key (text that is not YAML is not).
fn is_frame_file(text: &str) -> bool {
    serde_yaml::from_str::<serde_yaml::Value>(text).is_ok_and(|value| value.get("frame").is_some())
}

/// The `*.yaml` batch files of a directory, in name order.
pub fn batch_files_in(dir: &Path) -> Result<Vec<PathBuf>, InputError> {
    files_in(dir, "yaml")
}

/// The files of `dir` named `*.<extension>`, in name order.
pub fn files_in(dir: &Path, extension: &str) -> Result<Vec<PathBuf>, InputError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|err| InputError::at(dir, format!("cannot list directory: {err}")))?;
    let mut files: Vec<_> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == extension))
        .collect();
    files.sort();
    Ok(files)
}

impl BatchFile {
    /// Applies the set-up to `world` and builds the transactions. Errors name the offending part
    /// of the file (the caller adds the file name).
    pub fn prepare(&self, world: &World) -> Result<PreparedBatch, InputError> {
        let mut setup = world.setup();
        for (i, balance) in self.balances.iter().enumerate() {
            let address = resolve(balance.account, &format!("balances[{i}].account"))?;
            setup.set_balance(address, balance.amount.0);
        }
        for entry in &self.storage {
            let key = StorageKey::new(AccountTreeId::new(entry.address), entry.key.to_word());
            setup.set_storage(key, entry.value.to_word());
        }
        for (i, contract) in self.contracts.iter().enumerate() {
            let origin = format!("contracts[{i}] ({:?})", contract.address);
            let bytecode = code(
                &contract.assembly,
                &contract.bytecode,
                &contract.compiled,
                &contract.file,
            )
            .map_err(|problem| InputError::new(&origin, problem))?;
            setup
                .deploy(contract.address, bytecode)
                .map_err(|err| InputError::new(origin, err.problem))?;
        }
        let world = world.with_setup(setup);

        // One builder for the chain: nonces and priority ids go on from batch to batch.
        let mut builder = TxBuilder::new(&world);
        let mut batches = (self.batches.iter().enumerate())
            .map(|(index, batch)| {
                let origin = |path: String| match self.batches.len() {
                    1 => path,
                    _ => format!("batches[{index}].{path}"),
                };
                builder
                    .blocks(&batch.blocks)
                    .map_err(|(path, problem)| InputError::new(origin(path), problem))
            })
            .collect::<Result<Vec<_>, _>>()?
            .into_iter();
        Ok(PreparedBatch {
            batch: batches.next().expect("a batch file has a batch"),
            chained: batches.collect(),
            world,
        })
    }
}

/// The bytecode of a contract or factory dependency, given as assembly, as bytecode, as the
/// name of a real compiled contract, or as a hex file.
pub(super) fn code(
    assembly: &Option<String>,
    bytecode: &Option<HexBytes>,
    reference: &Option<String>,
    file: &Option<PathBuf>,
) -> Result<Vec<u8>, String> {
    match (assembly, bytecode, reference, file) {
        (Some(text), None, None, None) => assemble(text),
        (None, Some(code), None, None) => Ok(code.0.clone()),
        (None, None, Some(reference), None) => {
            compiled(reference).map_err(|problem| format!("compiled: {problem}"))
        }
        (None, None, None, Some(path)) => {
            read_bytecode_hex(path).map_err(|err| format!("file: {err}"))
        }
        _ => Err("give exactly one of `assembly`, `bytecode`, `compiled` and `file`".to_owned()),
    }
}

/// The bytecodes of a transaction's factory dependencies.
fn factory_deps(deps: &[FactoryDepSpec]) -> Result<Vec<Vec<u8>>, String> {
    deps.iter()
        .enumerate()
        .map(|(i, dep)| {
            code(&dep.assembly, &dep.bytecode, &dep.compiled, &dep.file)
                .map_err(|problem| format!("factory_deps[{i}]: {problem}"))
        })
        .collect()
}

fn resolve(party: Party, what: &str) -> Result<Address, InputError> {
    match party {
        Party::Address(address) => Ok(address),
        Party::Key(index) => test_key_address(index).ok_or_else(|| {
            InputError::new(
                what,
                format!("{index} is not a valid test key number (1 or more)"),
            )
        }),
    }
}

/// Builds transactions in batch order, tracking nonces and priority operation ids.
struct TxBuilder<'a> {
    world: &'a World,
    base_fee: u64,
    next_nonce: HashMap<Address, U256>,
    next_priority_id: u64,
}

impl<'a> TxBuilder<'a> {
    fn new(world: &'a World) -> Self {
        let base_fee = get_batch_base_fee(&world.l1_batch_env, world.system_env.version.into());
        Self {
            world,
            base_fee,
            next_nonce: HashMap::new(),
            next_priority_id: 0,
        }
    }

    /// One L1 batch's blocks, the first at the world's first L2 block; an error names the
    /// offending block or transaction.
    fn blocks(&mut self, specs: &[BlockSpec]) -> Result<Batch, (String, String)> {
        let mut blocks = Vec::with_capacity(specs.len());
        let mut timestamp = self.world.l1_batch_env.first_l2_block.timestamp;
        for (b, block) in specs.iter().enumerate() {
            if b > 0 {
                if block.timestamp_delta == 0 {
                    return Err((
                        format!("blocks[{b}].timestamp_delta"),
                        "must be at least 1: L2 block timestamps strictly increase".to_owned(),
                    ));
                }
                timestamp += block.timestamp_delta;
            }
            let transactions = (block.transactions.iter().enumerate())
                .map(|(t, tx)| {
                    self.build(tx)
                        .map_err(|problem| (format!("blocks[{b}].transactions[{t}]"), problem))
                })
                .collect::<Result<_, _>>()?;
            blocks.push(Block {
                timestamp,
                virtual_blocks: block.virtual_blocks,
                prev_block_hash: None,
                transactions,
            });
        }
        Ok(Batch { blocks })
    }

    fn build(&mut self, tx: &TxSpec) -> Result<Transaction, String> {
        match tx {
            TxSpec::L2(spec) => self.l2(spec),
            TxSpec::L1(spec) => self.l1(spec),
            TxSpec::Deploy(spec) => self.deploy(spec),
        }
    }

    /// The L2 transaction into ContractDeployer that `spec` describes.
    fn deploy(&mut self, spec: &DeployTxSpec) -> Result<Transaction, String> {
        let contract = &spec.contract;
        let bytecode = code(
            &contract.assembly,
            &contract.bytecode,
            &contract.compiled,
            &contract.file,
        )
        .map_err(|problem| format!("contract: {problem}"))?;
        let hash = BytecodeHash::for_bytecode(&bytecode).value();
        // `create(bytes32 salt, bytes32 bytecodeHash, bytes input)`, whose salt is unused, or
        // `create2` with the same parameters.
        let (function, salt) = match spec.salt {
            Some(salt) => ("create2", salt.0),
            None => ("create", U256::zero()),
        };
        let params = [
            ParamType::FixedBytes(32),
            ParamType::FixedBytes(32),
            ParamType::Bytes,
        ];
        let mut calldata = short_signature(function, &params).to_vec();
        calldata.extend(encode(&[
            Token::FixedBytes(u256_to_h256(salt).as_bytes().to_vec()),
            Token::FixedBytes(hash.as_bytes().to_vec()),
            Token::Bytes(spec.calldata.0.clone()),
        ]));
        let mut factory_deps = vec![FactoryDepSpec {
            assembly: None,
            bytecode: Some(HexBytes(bytecode)),
            compiled: None,
            file: None,
        }];
        factory_deps.extend(spec.factory_deps.iter().cloned());
        self.l2(&L2TxSpec {
            from: spec.from,
            to: Party::Address(CONTRACT_DEPLOYER_ADDRESS),
            calldata: HexBytes(calldata),
            value: spec.value,
            gas_limit: spec.gas_limit,
            nonce: None,
            max_fee_per_gas: None,
            gas_per_pubdata_limit: None,
            factory_deps,
        })
    }

    fn address(&self, party: Party) -> Result<Address, String> {
        resolve(party, "").map_err(|err| err.problem)
    }

    fn l2(&mut self, spec: &L2TxSpec) -> Result<Transaction, String> {
        let key = test_key(spec.from)
            .ok_or_else(|| format!("from: {} is not a valid test key number", spec.from))?;
        let sender = key.address();
        let world_nonce = self.world.tx_nonce(sender);
        let next = self.next_nonce.entry(sender).or_insert(world_nonce);
        let nonce = match spec.nonce {
            Some(nonce) => U256::from(nonce),
            None => *next,
        };
        *next = nonce + 1;
        let nonce = u32::try_from(nonce).map_err(|_| "nonce does not fit in 32 bits".to_owned())?;
        let fee = Fee {
            gas_limit: spec.gas_limit.into(),
            max_fee_per_gas: spec
                .max_fee_per_gas
                .map_or(self.base_fee.into(), |fee| fee.0),
            max_priority_fee_per_gas: U256::zero(),
            gas_per_pubdata_limit: spec
                .gas_per_pubdata_limit
                .unwrap_or(L2_GAS_PER_PUBDATA_LIMIT)
                .into(),
        };
        let tx = L2Tx::new_signed(
            Some(self.address(spec.to)?),
            spec.calldata.0.clone(),
            Nonce(nonce),
            fee,
            spec.value.0,
            self.world.system_env.chain_id,
            &key,
            factory_deps(&spec.factory_deps)?,
            PaymasterParams::default(),
        )
        .map_err(|err| format!("cannot sign: {err}"))?;
        Ok(tx.into())
    }

    fn l1(&mut self, spec: &L1TxSpec) -> Result<Transaction, String> {
        let sender = self.address(spec.from)?;
        let max_fee_per_gas = spec
            .max_fee_per_gas
            .map_or(self.base_fee.into(), |fee| fee.0);
        let gas_limit = U256::from(spec.gas_limit);
        let to_mint = match spec.mint {
            Some(mint) => mint.0,
            None => gas_limit
                .checked_mul(max_fee_per_gas)
                .and_then(|fee| fee.checked_add(spec.value.0))
                .ok_or("gas_limit * max_fee_per_gas + value overflows 256 bits")?,
        };
        let refund_recipient = match spec.refund_recipient {
            Some(party) => self.address(party)?,
            None => sender,
        };
        let serial_id = PriorityOpId(self.next_priority_id);
        self.next_priority_id += 1;
        let mut tx = L1Tx {
            execute: Execute {
                contract_address: Some(self.address(spec.to)?),
                calldata: spec.calldata.0.clone(),
                value: spec.value.0,
                factory_deps: factory_deps(&spec.factory_deps)?,
            },
            common_data: L1TxCommonData {
                sender,
                serial_id,
                layer_2_tip_fee: U256::zero(),
                full_fee: U256::zero(),
                max_fee_per_gas,
                gas_limit,
                gas_per_pubdata_limit: spec
                    .gas_per_pubdata_limit
                    .unwrap_or(REQUIRED_L1_TO_L2_GAS_PER_PUBDATA_BYTE)
                    .into(),
                op_processing_type: Default::default(),
                priority_queue_type: Default::default(),
                canonical_tx_hash: H256::zero(),
                to_mint,
                refund_recipient,
                eth_block: 0,
            },
            received_timestamp_ms: 0,
        };
        let request = abi::NewPriorityRequest::from(tx.clone());
        tx.common_data.canonical_tx_hash = request.transaction.hash();
        Ok(tx.into())
    }
}
