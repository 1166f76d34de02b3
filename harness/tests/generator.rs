//! Properties of the batch generator and of the canonical encoding.

use arbitrary::Unstructured;
use eravm_diff::{
    batch_file::parse_batch_file,
    engine::{Engine, VmFast},
    generate::{batch, zk_evm_contracts, GeneratorConfig},
    outcome::Outcome,
    support::assembly::assemble,
    world::default_world,
};
use proptest::prelude::*;

fn generate(bytes: &[u8]) -> eravm_diff::batch_file::BatchFile {
    let config = GeneratorConfig::for_world(&default_world());
    batch(&mut Unstructured::new(bytes), &config).expect("the generator never fails")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn same_bytes_give_the_same_batch(bytes in proptest::collection::vec(any::<u8>(), 0..6000)) {
        let first = generate(&bytes);
        prop_assert_eq!(&first, &generate(&bytes));
        let world = default_world();
        let (a, b) = (first.prepare(&world).unwrap(), generate(&bytes).prepare(&world).unwrap());
        let hashes = |batch: &eravm_diff::batch::Batch| -> Vec<_> {
            batch.blocks.iter().flat_map(|block| &block.transactions).map(|tx| tx.hash()).collect()
        };
        prop_assert_eq!(hashes(&a.batch), hashes(&b.batch));
    }

    #[test]
    fn generated_batch_survives_yaml(bytes in proptest::collection::vec(any::<u8>(), 0..6000)) {
        let file = generate(&bytes);
        let yaml = serde_yaml::to_string(&file).unwrap();
        prop_assert_eq!(parse_batch_file("generated", &yaml).unwrap(), file);
    }

    #[test]
    fn generated_contracts_assemble(bytes in proptest::collection::vec(any::<u8>(), 0..6000)) {
        for contract in generate(&bytes).contracts {
            let text = contract.assembly.unwrap();
            let assembled = assemble(&text);
            prop_assert!(assembled.is_ok(), "{}\n{}", assembled.unwrap_err(), text);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn canonical_encoding_round_trips(bytes in proptest::collection::vec(any::<u8>(), 512..6000)) {
        let prepared = generate(&bytes).prepare(&default_world()).unwrap();
        let outcome = VmFast.run(&prepared.world, &prepared.batch);
        let encoded = outcome.canonical_bytes();
        let decoded = Outcome::from_canonical_bytes(&encoded).unwrap();
        prop_assert_eq!(decoded.canonical_bytes(), encoded);
        prop_assert_eq!(decoded.digest(), outcome.digest());
    }
}

#[test]
fn some_generated_batches_ship_well_formed_factory_deps() {
    let config = GeneratorConfig::for_world(&default_world());
    let batches: Vec<_> = (0..400)
        .map(|sample| eravm_diff::generate::seeded::sample_batch(&config, 1, sample))
        .collect();
    let deps_of = |file: &eravm_diff::batch_file::BatchFile| -> Vec<Vec<u8>> {
        file.transactions()
            .flat_map(|tx| tx.factory_deps())
            .map(|dep| dep.bytecode.clone().expect("generated deps are bytecode").0)
            .collect()
    };
    let with_deps = batches
        .iter()
        .filter(|file| !deps_of(file).is_empty())
        .count();
    // One batch in eight draws a pool; a few of those give it to no transaction.
    assert!(
        (10..=100).contains(&with_deps),
        "{with_deps} of 400 batches ship factory deps"
    );
    for bytecode in batches.iter().flat_map(deps_of) {
        let words = bytecode.len() / 32;
        assert!(bytecode.len() % 32 == 0 && words % 2 == 1 && words < 16);
    }
}

/// Some generated batches deploy a copy of one of their contracts through ContractDeployer, and
/// the copy's constructor makes the deployment succeed (on both VMs, with equal results) when gas
/// allows.
#[test]
fn generated_deployments_go_through_the_deployer() {
    use eravm_diff::{
        batch_file::TxSpec, engine::VmLatest, generate::seeded::sample_batch, outcome::ExecResult,
    };
    let world = default_world();
    let config = GeneratorConfig::for_world(&world);
    let (mut deployments, mut deployed) = (0, 0);
    for sample in 0..200 {
        let file = sample_batch(&config, 7, sample);
        let txs: Vec<&TxSpec> = file.transactions().collect();
        let Some(index) = txs.iter().position(|tx| matches!(tx, TxSpec::Deploy(_))) else {
            continue;
        };
        // vm2 0.5.0 stops the whole VM at a static-memory instruction (the known divergence of
        // vectors/known_static_memory_user.yaml): such a batch says nothing of deployments.
        let static_memory = (file.contracts.iter())
            .filter_map(|contract| contract.assembly.as_deref())
            .any(|text| text.contains("uma.static_"));
        if static_memory {
            continue;
        }
        deployments += 1;
        let prepared = file.prepare(&world).unwrap();
        let reference = VmLatest.run(&prepared.world, &prepared.batch);
        let candidate = VmFast.run(&prepared.world, &prepared.batch);
        let result = |outcome: &Outcome| {
            outcome
                .transactions
                .get(index)
                .map(|tx| tx.execution.result.clone())
        };
        if matches!(result(&reference), Some(ExecResult::Success { .. })) {
            deployed += 1;
            assert!(
                matches!(result(&candidate), Some(ExecResult::Success { .. })),
                "sample {sample}: vm_fast {:?}",
                result(&candidate)
            );
        }
    }
    assert!(deployments >= 5, "{deployments} batches of 200 deploy");
    assert!(deployed >= 1, "none of {deployments} deployments succeeded");
}

/// The `contracts` profile calls real compiled contracts with selectors from their code: its
/// batches are valid and deterministic, send L2 transactions to real contracts (or a zk_evm
/// test's entry program) only, and seal.
#[test]
fn the_contracts_profile_calls_real_compiled_contracts() {
    use eravm_diff::generate::{selectors, Profile};
    let world = default_world();
    let config = GeneratorConfig {
        profile: Profile::Contracts,
        ..GeneratorConfig::for_world(&world)
    };
    let implementation = eravm_diff::world::compiled(
        "validation_adjacent/0x29175044e6f7d886522a96bc6f8433c65de5ee98",
    )
    .unwrap();
    let found = selectors(&implementation);
    for selector in ["01ffc9a7", "1626ba7e", "df9c1589", "202bcce7"] {
        let selector: [u8; 4] = hex::decode(selector).unwrap().try_into().unwrap();
        assert!(
            found.contains(&selector),
            "{selector:02x?} among {}",
            found.len()
        );
    }

    let targets: Vec<_> = config
        .real
        .targets
        .iter()
        .map(|(address, _)| *address)
        .collect();
    // Past the seeds, which call zk_evm's tests.
    let first = config.seeds().len() as u64;
    let mut calls = 0;
    for sample in first..first + 20 {
        let file = eravm_diff::generate::seeded::sample_batch(&config, 7, sample);
        assert_eq!(
            file,
            eravm_diff::generate::seeded::sample_batch(&config, 7, sample)
        );
        file.prepare(&world).unwrap();
        for tx in file.transactions() {
            let eravm_diff::batch_file::TxSpec::L2(tx) = tx else {
                panic!("the contracts profile sends L2 transactions only: {tx:?}");
            };
            let eravm_diff::batch_file::Party::Address(to) = tx.to else {
                panic!("{tx:?}");
            };
            let placed = file.contracts.iter().any(|contract| contract.address == to);
            assert!(targets.contains(&to) || placed, "{to:?} is a real contract");
            calls += 1;
        }
    }
    assert!(calls > 20, "{calls} calls");

    let file = eravm_diff::generate::seeded::sample_batch(&config, 7, first);
    let prepared = file.prepare(&world).unwrap();
    let outcome = VmFast.run(&prepared.world, &prepared.batch);
    assert_eq!(outcome.panic, None);
    assert!(outcome.batch.is_some(), "the batch is sealed");
}

/// Coverage says where execution went: the `contracts` profile runs real compiled code and no
/// generated code, the `programs` profile the reverse, and both run the bootloader.
#[test]
fn coverage_counts_instructions_by_region() {
    use eravm_diff::{
        drive::coverage::{measure, Region},
        engine::VmLatest,
        generate::Profile,
        pipeline::Differential,
    };
    let world = default_world();
    let differential = Differential::new(world.clone(), VmLatest, VmFast);
    for (profile, ran, did_not) in [
        (Profile::Contracts, Region::Compiled, Region::Generated),
        (Profile::Programs, Region::Generated, Region::Compiled),
    ] {
        let config = GeneratorConfig {
            profile,
            ..GeneratorConfig::for_world(&world)
        };
        let coverage = measure(&differential, &config, 3, 6);
        let count = |region| coverage.regions.get(&region).copied().unwrap_or(0);
        assert!(count(ran) > 0, "{profile:?}: {:?}", coverage.regions);
        assert_eq!(count(did_not), 0, "{profile:?}: {:?}", coverage.regions);
        assert!(
            count(Region::Bootloader) > 0,
            "{profile:?}: {:?}",
            coverage.regions
        );
    }
}

/// Coverage counts the cells of the model that the reference executes: only cells of the model,
/// and the plainest cells of generated programs (an `add` with an immediate, a heap write inside
/// the bound, user and kernel mode).
#[test]
fn coverage_counts_cells_of_the_model() {
    use eravm_diff::{
        drive::coverage::measure,
        engine::VmLatest,
        generate::Profile,
        isa::model::{Feature, HeapEnd, Mode, Origin, Src},
        pipeline::Differential,
    };
    use zksync_multivm::zk_evm_latest::zkevm_opcode_defs::{AddOpcode, Opcode, UMAOpcode};
    let world = default_world();
    let differential = Differential::new(world.clone(), VmLatest, VmFast);
    let config = GeneratorConfig {
        profile: Profile::Programs,
        ..GeneratorConfig::for_world(&world)
    };
    let coverage = measure(&differential, &config, 1, 24);
    let (reachable, reached) = coverage.cells_reached();
    assert!(
        reached.len() > 300,
        "{} of {} cells",
        reached.len(),
        reachable.len()
    );
    let model: std::collections::HashSet<_> = reachable.iter().collect();
    for cell in coverage.cells.keys() {
        assert!(
            model.contains(cell),
            "{cell} was executed but is no cell of the model"
        );
    }
    let shown = |opcode: Opcode, feature: Feature| {
        let cell = eravm_diff::isa::model::Cell { opcode, feature };
        assert!(coverage.cells.contains_key(&cell), "{cell} never shown");
    };
    let add = Opcode::Add(AddOpcode::Add);
    shown(add, Feature::Origin(Src::Src0, Origin::Immediate));
    shown(add, Feature::Mode(Mode::User));
    shown(add, Feature::Mode(Mode::Kernel));
    shown(
        Opcode::UMA(UMAOpcode::HeapWrite),
        Feature::Heap(HeapEnd::Inside),
    );
}

/// A cell shown only in a near-called subroutine that reverts is reached only in a dying frame;
/// one shown after it, in the frame that returns, lives.
#[test]
fn cells_tell_dying_frames_from_living_ones() {
    use eravm_diff::{
        engine::VmLatest,
        isa::model::{Cell, Feature, Src, Value},
        pipeline::{Differential, RunOptions},
    };
    use zksync_multivm::zk_evm_latest::zkevm_opcode_defs::{AddOpcode, BinopOpcode, Opcode};
    let file = parse_batch_file(
        "dying.yaml",
        r#"
expect: equal
balances: [{account: 1, amount: "1000000000000000000"}]
contracts:
  - address: "0xc0de000000000000000000000000000000000001"
    assembly: |
      .text
      __entry:
          near_call r0, @dies, @handler
      handler:
          add 5, r0, r3
          ret.ok r0
      dies:
          xor 7, r0, r4
          ret.revert r0
batches:
  - blocks:
      - transactions:
          - l2: {from: 1, to: "0xc0de000000000000000000000000000000000001", gas_limit: 2000000}
"#,
    )
    .unwrap();
    let differential = Differential::new(default_world(), VmLatest, VmFast);
    let run = RunOptions {
        count_cells: true,
        ..RunOptions::counting_opcodes_in(&file)
    };
    let cells = differential
        .run_file(&file, &run)
        .unwrap()
        .reference
        .cells
        .unwrap();
    let value = |opcode, value| Cell {
        opcode,
        feature: Feature::Value(Src::Src0, value),
    };
    let xor = value(Opcode::Binop(BinopOpcode::Xor), Value::Other);
    let add = value(Opcode::Add(AddOpcode::Add), Value::Other);
    for cell in [xor, add] {
        assert!(
            cells.executions.iter().any(|(shown, _)| *shown == cell),
            "{cell} shown"
        );
    }
    assert!(cells.dying_only.contains(&xor), "{:?}", cells.dying_only);
    assert!(!cells.dying_only.contains(&add), "{:?}", cells.dying_only);
}

/// Some generated batches are chains of L1 batches; every one of them runs through the pipeline
/// batch by batch.
#[test]
fn some_generated_batches_are_chains() {
    use eravm_diff::pipeline::{Differential, RunOptions};
    let world = default_world();
    let config = GeneratorConfig::for_world(&world);
    let chains: Vec<_> = (0..400)
        .map(|sample| eravm_diff::generate::seeded::sample_batch(&config, 1, sample))
        .filter(|file| file.batches.len() > 1)
        .take(3)
        .collect();
    assert_eq!(chains.len(), 3, "three chains among 400 samples");
    let differential = Differential::new(world, eravm_diff::engine::VmLatest, VmFast);
    for file in &chains {
        assert!(file.batches.iter().all(|batch| !batch.blocks.is_empty()));
        let comparison = differential.run_file(file, &RunOptions::default()).unwrap();
        assert_eq!(comparison.chain.batches, file.batches.len());
    }
}

/// zk_evm's assembly tests: those that need nothing its Rust tests provide assemble here (42 of
/// 55), each left out says why, and the `contracts` profile runs them.
#[test]
fn zk_evm_tests_assemble_and_the_contracts_profile_runs_them() {
    use eravm_diff::{generate::Profile, world::zk_evm_tests};
    let tests = zk_evm_tests();
    let (usable, left_out) = (tests.usable.len(), tests.left_out.len());
    assert_eq!((usable, left_out), (42, 13), "{:#?}", tests.left_out);
    for (name, why) in &tests.left_out {
        let known = why.ends_with("a contract its Rust test places by name")
            || why.ends_with("a template value (`${…}`) that its Rust test fills in");
        assert!(known, "{name}: {why}");
    }
    let world = default_world();
    let config = GeneratorConfig {
        profile: Profile::Contracts,
        ..GeneratorConfig::for_world(&world)
    };
    // Past the seeds (one per test, below).
    let test_batches = (42..82)
        .map(|sample| eravm_diff::generate::seeded::sample_batch(&config, 1, sample))
        .filter(|file| {
            file.description
                .as_ref()
                .is_some_and(|d| d.contains("zk_evm test"))
        })
        .count();
    assert!(
        test_batches >= 4,
        "{test_batches} of 40 batches run a zk_evm test"
    );
}

/// The `contracts` and `mixed` seeds: one per zk_evm test that runs here, each generating a
/// batch that calls its entry program once, from sender 1 with 20 M gas; they are the first
/// samples of every seeded run. `programs` has none.
#[test]
fn seeds_run_each_zk_evm_test_once() {
    use eravm_diff::{
        batch_file::{Party, TxSpec},
        generate::{
            seeded::{generated, sample_batch},
            Profile,
        },
        world::zk_evm_tests,
    };
    let world = default_world();
    let tests = &zk_evm_tests().usable;
    for profile in [Profile::Contracts, Profile::Mixed] {
        let config = GeneratorConfig {
            profile,
            ..GeneratorConfig::for_world(&world)
        };
        let seeds = config.seeds();
        assert_eq!(seeds.len(), tests.len());
        for (index, (seed, test)) in seeds.iter().zip(tests).enumerate() {
            assert_eq!(seed.name, format!("zk_evm-{}", test.name.replace('/', "-")));
            let file = generated(&config, &seed.input);
            assert_eq!(file, sample_batch(&config, 9, index as u64));
            assert_eq!(file.contracts, zk_evm_contracts(test), "{}", seed.name);
            let blocks = &file.batches[0].blocks;
            let [TxSpec::L2(tx)] = &blocks[0].transactions[..] else {
                panic!("{}: one L2 transaction: {blocks:?}", seed.name);
            };
            assert_eq!((tx.from, tx.gas_limit), (1, 20_000_000), "{}", seed.name);
            assert_eq!(tx.to, Party::Address(test.entry()));
            assert!(tx.calldata.0.is_empty());
            file.prepare(&world).expect("a seed's batch prepares");
        }
    }
    let programs = GeneratorConfig::for_world(&world);
    assert!(programs.seeds().is_empty());
}
