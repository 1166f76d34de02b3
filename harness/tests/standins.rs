//! The stand-in system contracts compute what the real ones compute.

use eravm_diff::{
    batch::parse_batch_file,
    engine::{Engine, VmFast, VmLatest},
    outcome::Word,
    world::default_world,
};
use sha2::{Digest, Sha256};
use zksync_types::{Address, U256};

/// A contract that forwards its calldata to the SHA-256 precompile contract (0x02) and stores
/// the returned word in slot 1.
const HASHER: &str = r#"
contracts:
  - address: "0xc0de000000000000000000000000000000000005"
    assembly: |
      .rodata
      ABI_FORWARD_ALL_GAS:
          .cell 53919893328024177853947349410203471924066622428978789517743185985536
      .text
      __entry:
          add @ABI_FORWARD_ALL_GAS[0], r0, r2
          ptr.pack r1, r2, r1
          add 2, r0, r2
          far_call r1, r2, @fail
          ld r1, r3
          add 1, r0, r4
          sstore r4, r3
          ret.ok r0
      fail:
          ret.revert r0
"#;

#[test]
fn sha256_stand_in_hashes_every_padding_case() {
    // Lengths around the block boundaries: the 0x80 byte and the 8-byte length fit in the
    // last block or need one more.
    let lengths = [0, 1, 31, 32, 55, 56, 63, 64, 65, 119, 120, 200];
    let inputs: Vec<Vec<u8>> = lengths
        .iter()
        .map(|&len| (0..len).map(|i| (i * 7 + len) as u8).collect())
        .collect();
    let transactions: String = inputs
        .iter()
        .map(|input| {
            format!(
                "      - l2: {{from: 1, to: \"0xc0de000000000000000000000000000000000005\", calldata: \"0x{}\", gas_limit: 2000000}}\n",
                hex::encode(input)
            )
        })
        .collect();
    let text = format!(
        "balances:\n  - {{account: 1, amount: \"1000000000000000000\"}}\n{HASHER}blocks:\n  - transactions:\n{transactions}"
    );
    let prepared = parse_batch_file("sha256 batch", &text)
        .unwrap()
        .prepare(&default_world())
        .unwrap();

    let hasher: Address = "0xc0de000000000000000000000000000000000005"
        .parse()
        .unwrap();
    for engine in [&VmLatest as &dyn Engine, &VmFast] {
        let outcome = engine.run(&prepared.world, &prepared.batch);
        assert!(
            outcome.panic.is_none(),
            "{}: {:?}",
            engine.name(),
            outcome.panic
        );
        for (input, tx) in inputs.iter().zip(&outcome.transactions) {
            let stored = tx
                .execution
                .storage_writes
                .iter()
                .find(|write| write.address == hasher && write.key == Word::from(U256::one()))
                .unwrap_or_else(|| {
                    panic!(
                        "{}: no hash stored for {} bytes",
                        engine.name(),
                        input.len()
                    )
                });
            assert_eq!(
                stored.after.0,
                <[u8; 32]>::from(Sha256::digest(input)),
                "{}: sha256 of {} bytes",
                engine.name(),
                input.len()
            );
        }
    }
}
