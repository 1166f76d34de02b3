//! The world a batch runs in: system env (bootloader, default account, protocol version, chain
//! id, execution mode), L1 batch env, pre-state storage and factory deps.
//!
//! A world is built once (from the embedded default, a VM dump, or a zksync-era checkout) and
//! then cloned for every run; a clone shares all of its data.

mod compiled;
mod dump;
mod embedded;
mod env;
mod genesis;
mod storage;
mod system_contracts;
mod zk_evm_programs;
mod zksync_home;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    str::FromStr,
    sync::{Arc, Mutex, OnceLock},
};

use serde::{Deserialize, Serialize};
use zksync_contracts::SystemContractCode;
use zksync_types::{
    bytecode::{validate_bytecode, BytecodeHash},
    get_code_key, get_known_code_key, get_nonce_key, h256_to_u256, u256_to_h256,
    utils::{decompose_full_nonce, storage_key_for_eth_balance},
    Address, L2ChainId, ProtocolVersionId, StorageKey, H256, U256,
};
use zksync_vm_interface::TxExecutionMode;

pub(crate) use self::dump::restore_input;
use self::zksync_home::has_genesis_export;
pub use self::{
    compiled::{compiled, validation_dump_calldata, validation_dump_slot},
    dump::{load_dump, parse_dump, Dump},
    embedded::{default_world, embedded_dump_path, EMBEDDED_DUMP},
    env::World,
    genesis::{load_genesis, parse_genesis, Genesis},
    storage::{Slot, StorageLayer, WorldStorage},
    system_contracts::{Code, SystemContract, SYSTEM_CONTRACTS},
    zk_evm_programs::{zk_evm_tests, ZkEvmContract, ZkEvmTest, ZkEvmTests},
    zksync_home::load_zksync_home,
};
use crate::support::error::{read_file, InputError};

impl World {
    /// This world with a batch's set-up applied on top (replacing any earlier set-up).
    pub fn with_setup(&self, setup: Setup) -> Self {
        let mut world = self.clone();
        world.storage = WorldStorage::new(setup.base, Arc::new(setup.overlay));
        world
    }

    /// Starts a set-up over this world's base storage.
    pub fn setup(&self) -> Setup {
        Setup {
            base: self.storage.base().clone(),
            overlay: StorageLayer::default(),
        }
    }

    /// Transaction nonce of `address` in the pre-state.
    pub fn tx_nonce(&self, address: Address) -> U256 {
        let full = self.storage.value(&get_nonce_key(&address));
        decompose_full_nonce(h256_to_u256(full)).0
    }

    /// This world running `bootloader` instead of its own.
    pub fn with_bootloader(&self, bootloader: Vec<u8>) -> Self {
        let mut world = self.clone();
        let contracts = &mut Arc::make_mut(&mut world.system_env).base_system_smart_contracts;
        contracts.bootloader = SystemContractCode {
            hash: BytecodeHash::for_bytecode(&bootloader).value(),
            code: bootloader,
        };
        world.origin = format!("{} with another bootloader", world.origin);
        world
    }

    /// Whether an EraVM contract is deployed at `address` in the pre-state.
    pub fn has_code(&self, address: Address) -> bool {
        !self.storage.value(&get_code_key(&address)).is_zero()
    }
}

/// A batch's changes to the pre-state, built before any VM runs.
#[derive(Debug)]
pub struct Setup {
    base: Arc<StorageLayer>,
    overlay: StorageLayer,
}

impl Setup {
    pub fn set_storage(&mut self, key: StorageKey, value: H256) {
        self.overlay.set(&key, value, Some(&self.base));
    }

    pub fn set_balance(&mut self, address: Address, amount: U256) {
        self.set_storage(storage_key_for_eth_balance(&address), u256_to_h256(amount));
    }

    /// Deploys EraVM `bytecode` at `address`: code hash, known-code marker and factory dep.
    pub fn deploy(&mut self, address: Address, bytecode: Vec<u8>) -> Result<(), InputError> {
        deploy_into(&mut self.overlay, Some(&self.base), address, bytecode).map(drop)
    }
}

/// Writes `bytecode` into `layer` as the code of `address`, the way genesis deploys contracts.
fn deploy_into(
    layer: &mut StorageLayer,
    below: Option<&StorageLayer>,
    address: Address,
    bytecode: Vec<u8>,
) -> Result<H256, InputError> {
    validate_bytecode(&bytecode).map_err(|err| {
        InputError::new(
            format!("bytecode for {address:?}"),
            format!("invalid EraVM bytecode: {err}"),
        )
    })?;
    let hash = BytecodeHash::for_bytecode(&bytecode).value();
    layer.set(&get_code_key(&address), hash, below);
    layer.set(&get_known_code_key(&hash), H256::from_low_u64_be(1), below);
    layer.store_factory_dep(hash, bytecode);
    Ok(hash)
}

/// Reads a hex file of EraVM bytecode (`0x` and hex digits; whitespace is ignored), as
/// zksync-era's `*.hex` artifacts are written. Each file is read, decoded and validated once per
/// process: generated batches name the same `--contracts` files in every sample.
pub fn read_bytecode_hex(path: &Path) -> Result<Vec<u8>, InputError> {
    static READ: OnceLock<Mutex<HashMap<PathBuf, Vec<u8>>>> = OnceLock::new();
    let read = READ.get_or_init(Mutex::default);
    if let Some(bytecode) = read.lock().expect("not poisoned").get(path) {
        return Ok(bytecode.clone());
    }
    let bytecode = decode_bytecode_hex(path)?;
    (read.lock().expect("not poisoned")).insert(path.to_owned(), bytecode.clone());
    Ok(bytecode)
}

fn decode_bytecode_hex(path: &Path) -> Result<Vec<u8>, InputError> {
    let text = String::from_utf8(read_file(path)?)
        .map_err(|_| InputError::at(path, "not a hex file: not UTF-8 text"))?;
    let digits: String = text.split_whitespace().collect();
    let digits = digits.strip_prefix("0x").unwrap_or(&digits);
    let bytecode = hex::decode(digits)
        .map_err(|err| InputError::at(path, format!("not a hex file: {err}")))?;
    validate_bytecode(&bytecode)
        .map_err(|err| InputError::at(path, format!("invalid EraVM bytecode: {err}")))?;
    Ok(bytecode)
}

/// What a world is built from: vectors whose verdict differs by world declare it per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorldKind {
    /// The embedded default world.
    Default,
    /// A VM dump's world.
    Dump,
    /// A genesis export (`genesis:PATH`, or a checkout that has one).
    Genesis,
    /// A zksync-era checkout's compiled contracts.
    ZksyncHome,
}

/// Where a world comes from, as the command line names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorldSource {
    /// The embedded default (`default`).
    Default,
    /// The world a VM dump was taken in (a path to a dump file).
    Dump(PathBuf),
    /// A genesis export, zksync-era's `core/genesis_export.bin` (`genesis:PATH`).
    Genesis(PathBuf),
    /// Genesis of a zksync-era checkout (`zksync-home:DIR`, or `zksync-home` for $ZKSYNC_HOME):
    /// its genesis export, or else its compiled contracts at the latest protocol version.
    ZksyncHome(Option<PathBuf>),
}

impl FromStr for WorldSource {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Ok(match text {
            "default" => Self::Default,
            "zksync-home" => Self::ZksyncHome(None),
            _ => {
                if let Some(dir) = text.strip_prefix("zksync-home:") {
                    Self::ZksyncHome(Some(dir.into()))
                } else if let Some(path) = text.strip_prefix("genesis:") {
                    Self::Genesis(path.into())
                } else {
                    Self::Dump(text.into())
                }
            }
        })
    }
}

impl std::fmt::Display for WorldSource {
    /// The name `--world` takes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::Dump(path) => write!(f, "{}", path.display()),
            Self::Genesis(path) => write!(f, "genesis:{}", path.display()),
            Self::ZksyncHome(None) => f.write_str("zksync-home"),
            Self::ZksyncHome(Some(dir)) => write!(f, "zksync-home:{}", dir.display()),
        }
    }
}

impl WorldSource {
    /// What the world is built from.
    pub fn kind(&self) -> Result<WorldKind, InputError> {
        Ok(match self {
            Self::Default => WorldKind::Default,
            Self::Dump(_) => WorldKind::Dump,
            Self::Genesis(_) => WorldKind::Genesis,
            Self::ZksyncHome(dir) => match has_genesis_export(&zksync_home_dir(dir.as_deref())?) {
                true => WorldKind::Genesis,
                false => WorldKind::ZksyncHome,
            },
        })
    }

    /// Builds the world, in `VerifyExecute` mode.
    pub fn load(&self) -> Result<World, InputError> {
        let world = match self {
            Self::Default => default_world(),
            Self::Dump(path) => load_dump(path)?.world,
            Self::Genesis(path) => load_genesis(path)?,
            Self::ZksyncHome(dir) => load_zksync_home(
                &zksync_home_dir(dir.as_deref())?,
                ProtocolVersionId::latest(),
                L2ChainId::default(),
            )?,
        };
        Ok(world.with_execution_mode(TxExecutionMode::VerifyExecute))
    }
}

/// The checkout `zksync-home[:DIR]` names: DIR, or $ZKSYNC_HOME.
fn zksync_home_dir(dir: Option<&Path>) -> Result<PathBuf, InputError> {
    match dir {
        Some(dir) => Ok(dir.to_owned()),
        None => std::env::var_os("ZKSYNC_HOME")
            .map(PathBuf::from)
            .ok_or_else(|| {
                InputError::new(
                    "zksync-home",
                    "ZKSYNC_HOME is not set; give zksync-home:DIR",
                )
            }),
    }
}

/// Whether `address` is where the generator places its contracts ([`generated_contract_address`]):
/// engines and drivers tell generated code from the world's own by it.
pub fn is_generated_contract(address: &Address) -> bool {
    let bytes = address.as_bytes();
    let kernel = bytes[..18] == [0; 18] && bytes[18] == 0x40;
    let user = bytes[..2] == [0xc0, 0xde] && bytes[2..19] == [0; 17];
    kernel || user
}

/// Address of generated contract `index`: kernel space (`0x4000 + index`) or user space.
pub fn generated_contract_address(index: usize, kernel: bool) -> Address {
    if kernel {
        Address::from_low_u64_be(0x4000 + index as u64)
    } else {
        let mut bytes = [0; 20];
        bytes[..2].copy_from_slice(&[0xc0, 0xde]);
        bytes[19] = index as u8;
        Address::from(bytes)
    }
}
