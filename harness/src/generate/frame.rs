//! Frames from fuzzer bytes ([`crate::frame`]): 1–4 generated programs that call each other,
//! the entry in user space and about a third of the others in kernel space, with calldata,
//! ergs, a value and a few storage slots drawn too. The programs are the `programs` profile's.

use arbitrary::{Result, Unstructured};
use zksync_types::{Address, U256};

use super::{
    program::{program, ProgramContext},
    SYSTEM_TARGETS,
};
use crate::{
    frame::{account_code, code_hash, Frame, FrameContract},
    outcome::Word,
    support::{assembly::assemble, bytes::HexBytes},
    world::generated_contract_address,
};

/// Ergs a generated frame starts with.
const ERGS: [u32; 4] = [20_000, 200_000, 1_000_000, 4_000_000];

/// An address with no code: far calls to it run the account stand-in.
const ACCOUNT: u64 = 0xacc0_0000;

/// Generates a frame.
pub fn frame(u: &mut Unstructured) -> Result<Frame> {
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
    let code_hashes = [code_hash(account_code())];
    let mut contracts = Vec::with_capacity(count);
    let mut storage = vec![];
    for &this in &addresses {
        let cx = ProgramContext {
            this,
            call_targets: &call_targets,
            code_hashes: &code_hashes,
        };
        let text = program(u, &cx)?;
        let bytecode = assemble(&text).expect("generated programs assemble");
        contracts.push(FrameContract {
            address: this,
            bytecode: HexBytes(bytecode),
        });
        for _ in 0..u.int_in_range(0..=2)? {
            let key = U256::from(u.int_in_range(0..=7u8)?);
            let value = U256::from(u.arbitrary::<u64>()?);
            storage.push((this, Word::from(key), Word::from(value)));
        }
    }
    let calldata = (0..u.int_in_range(0..=96)?)
        .map(|_| u.arbitrary())
        .collect::<Result<_>>()?;
    Ok(Frame {
        contracts,
        calldata: HexBytes(calldata),
        ergs: *u.choose(&ERGS)?,
        caller: Address::from_low_u64_be(0xca11e7),
        value: if u.ratio(1, 4)? {
            u.arbitrary::<u64>()?.into()
        } else {
            0
        },
        storage,
    })
}
