//! Frame files from fuzzer bytes ([`crate::frame`]): 1–4 generated programs that call each other,
//! the entry in user space and about a third of the others in kernel space, with calldata,
//! ergs, a value and a few storage slots drawn too. The programs are the `programs` profile's,
//! kept as assembly text, except that their bodies are guarded and repeated (a failing
//! instruction ends its fragment, not the frame; see `ProgramContext::guarded_body`).

use arbitrary::{Result, Unstructured};
use zksync_types::Address;

use super::{
    program::{program, ProgramContext},
    SYSTEM_TARGETS,
};
use crate::{
    batch_file::{ContractSpec, FrameCall, FrameFile, Quantity, StorageSpec, DEFAULT_CALLER},
    frame::account_code_hash,
    support::bytes::HexBytes,
    world::generated_contract_address,
};

/// Ergs a generated frame starts with.
const ERGS: [u32; 4] = [20_000, 200_000, 1_000_000, 4_000_000];

/// An address with no code: far calls to it run the account stand-in.
const ACCOUNT: u64 = 0xacc0_0000;

/// Generates a frame file.
pub fn frame(u: &mut Unstructured) -> Result<FrameFile> {
    let count = u.int_in_range(1..=4)?;
    let addresses: Vec<Address> = (0..count)
        .map(|index| {
            Ok(generated_contract_address(
                index,
                index > 0 && u.ratio(1, 3)?,
            ))
        })
        .collect::<Result<_>>()?;
    let mut call_targets = addresses.clone();
    call_targets.extend(SYSTEM_TARGETS);
    call_targets.push(Address::from_low_u64_be(ACCOUNT));
    let code_hashes = [account_code_hash()];
    let mut contracts = Vec::with_capacity(count);
    let mut storage = vec![];
    for &this in &addresses {
        let cx = ProgramContext {
            this,
            call_targets: &call_targets,
            code_hashes: &code_hashes,
            guarded_body: true,
        };
        contracts.push(ContractSpec {
            address: this,
            name: None,
            assembly: Some(program(u, &cx)?),
            bytecode: None,
            compiled: None,
            file: None,
        });
        for _ in 0..u.int_in_range(0..=2)? {
            storage.push(StorageSpec {
                address: this,
                key: Quantity::from(u64::from(u.int_in_range(0..=7u8)?)),
                value: Quantity::from(u.arbitrary::<u64>()?),
            });
        }
    }
    let calldata = (0..u.int_in_range(0..=96)?)
        .map(|_| u.arbitrary())
        .collect::<Result<_>>()?;
    Ok(FrameFile {
        origin: None,
        description: None,
        expect: None,
        contracts,
        storage,
        frame: FrameCall {
            ergs: *u.choose(&ERGS)?,
            caller: Address::from_low_u64_be(DEFAULT_CALLER),
            value: if u.ratio(1, 4)? {
                Quantity::from(u.arbitrary::<u64>()?)
            } else {
                Quantity::default()
            },
            calldata: HexBytes(calldata),
        },
    })
}
