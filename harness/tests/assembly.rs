//! The direct assembler against zkevm-assembly: whatever text it takes assembles to exactly the
//! bytes zkevm-assembly gives, and it takes everything the generator writes and every vector.

use eravm_diff::{
    batch_file::{batch_files_in, parse_input_file, InputFile},
    generate::{
        seeded::{sample_batch, sample_frame},
        GeneratorConfig, Profile,
    },
    support::assembly::{assemble_directly, assemble_with_zkevm_assembly},
    world::default_world,
};

/// `text` is assembled directly, to zkevm-assembly's bytes.
fn agrees(origin: &str, text: &str) {
    let direct = assemble_directly(text)
        .unwrap_or_else(|| panic!("{origin}: the direct assembler declined\n{text}"));
    assert_eq!(
        Ok(direct),
        assemble_with_zkevm_assembly(text),
        "{origin}: the direct assembler differs from zkevm-assembly\n{text}"
    );
}

#[test]
fn generated_programs_assemble_directly_to_zkevm_assemblys_bytes() {
    for sample in 0..300 {
        for contract in sample_frame(7, sample).contracts {
            agrees(&format!("frame {sample}"), &contract.assembly.unwrap());
        }
    }
    let mut config = GeneratorConfig::for_world(&default_world());
    config.profile = Profile::Programs;
    for sample in 0..60 {
        for contract in sample_batch(&config, 7, sample).contracts {
            agrees(&format!("batch {sample}"), &contract.assembly.unwrap());
        }
    }
}

#[test]
fn vectors_assemble_directly_to_zkevm_assemblys_bytes() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors");
    let mut texts = 0;
    for path in batch_files_in(std::path::Path::new(root)).unwrap() {
        let origin = path.display().to_string();
        let yaml = std::fs::read_to_string(&path).unwrap();
        let contracts = match parse_input_file(&origin, &yaml).unwrap() {
            InputFile::Batch(file) => file.contracts,
            InputFile::Frame(file) => file.contracts,
        };
        for text in contracts
            .into_iter()
            .filter_map(|contract| contract.assembly)
        {
            agrees(&origin, &text);
            texts += 1;
        }
    }
    assert!(texts >= 50, "only {texts} assembly texts in the vectors");
}

/// Mnemonics in and around the subset: every family, modifiers in odd orders, and forms
/// zkevm-assembly refuses (swap on `add`, set-flags on `ptr`, `.first` on a storage read, …).
const MNEMONICS: &[&str] = &[
    "add",
    "add!",
    "add.eq",
    "add.s",
    "sub.s.lt!",
    "sub.gtlt.s",
    "mul",
    "mul.ne!",
    "div.s",
    "div.s.ge!",
    "and",
    "or.le",
    "xor!",
    "shl.s",
    "shr.eq!",
    "rol",
    "ror.s.gt",
    "ptr.add",
    "ptr.sub.s",
    "ptr.pack.eq",
    "ptr.shrink.s.ne",
    "ptr.add!",
    "nop",
    "nop.eq",
    "nop.ne",
    "jump",
    "jump.lt",
    "context.this",
    "context.caller.eq",
    "context.code_source",
    "context.meta",
    "context.sp",
    "context.ergs_left",
    "context.get_context_u128",
    "context.set_context_u128",
    "context.set_ergs_per_pubdata",
    "context.inc_tx_num",
    "context.inc_tx_num.ge",
    "uma.heap_read",
    "uma.heap_write.inc",
    "uma.aux_heap_read.lt.inc",
    "uma.aux_heap_write",
    "uma.fat_ptr_read",
    "uma.fat_ptr_read.inc",
    "uma.static_read",
    "uma.static_write.inc.eq",
    "ld",
    "ld.inc",
    "ld.1",
    "ld.1.inc",
    "ld.2",
    "ld.2.inc",
    "st.1",
    "st.1.inc",
    "st.2",
    "st.2.inc",
    "ld.1.lt",
    "st",
    "log.sread",
    "log.swrite.eq",
    "log.tread",
    "log.twrite",
    "log.event",
    "log.event.first",
    "log.to_l1.first.ne",
    "log.precompile",
    "log.decommit",
    "log.sread.first",
    "sload",
    "sstore",
    "tload",
    "tstore",
    "to_l1",
    "to_l1.first",
    "to_l1.eq",
    "sload.eq",
    "near_call",
    "near_call.gt",
    "far_call",
    "far_call.delegate.static",
    "far_call.shard.mimic.eq",
    "far_call.delegate.mimic",
    "ret.ok",
    "ret.revert.to_label",
    "ret.panic.lt",
    "ret.ok.to_label.eq",
    "ret",
    "invalid",
    "invalid.eq",
    "add.eq.eq",
    "frob",
];

/// Operands of every form, good and bad.
const OPERANDS: &[&str] = &[
    "r0",
    "r5",
    "r15",
    "r16",
    "0",
    "7",
    "65535",
    "65536",
    "007",
    "stack[3]",
    "stack-[2]",
    "stack+=[1]",
    "stack-=[4]",
    "stack[r1+2]",
    "@K[1]",
    "@K[70000]",
    "@L",
    "@K",
    "@M",
    "#5",
    "-1",
];

/// Operand lists: every list of up to three of [`OPERANDS`], and of four of a few.
fn operand_lists() -> Vec<Vec<&'static str>> {
    let mut lists = vec![vec![]];
    let mut last = vec![vec![]];
    for arity in 1..=4 {
        let pool = match arity {
            4 => &["r0", "r5", "7", "stack[3]", "stack+=[1]", "@K[1]", "@L"][..],
            _ => OPERANDS,
        };
        last = (last.iter())
            .flat_map(|list| {
                pool.iter()
                    .map(|operand| [list.clone(), vec![*operand]].concat())
            })
            .collect();
        lists.extend(last.iter().cloned());
    }
    lists
}

#[test]
fn the_direct_assembler_agrees_or_declines() {
    let mut taken = 0;
    for mnemonic in MNEMONICS {
        for operands in operand_lists() {
            let line = format!("{mnemonic} {}", operands.join(", "));
            let text = format!(
                "    .rodata\nK:\n    .cell 5\n    .cell 7\n    .text\nL:\n    {}\n    ret.ok r0\n",
                line.trim_end()
            );
            if let Some(direct) = assemble_directly(&text) {
                let reference = assemble_with_zkevm_assembly(&text);
                assert_eq!(Ok(direct), reference, "`{line}`");
                taken += 1;
            }
        }
    }
    // Each family in the list has forms the direct assembler takes.
    assert!(taken > 5000, "the direct assembler took only {taken} lines");
}

#[test]
fn the_direct_assembler_declines_what_zkevm_assembly_would_drop_or_misread() {
    let declined = [
        // A section without a label: zkevm-assembly drops it.
        "    .text\n    add r1, r0, r2\n",
        // Immediates past 16 bits, registers past r15, hexadecimal cells.
        "    .text\nmain:\n    add 70000, r0, r1\n",
        "    .text\nmain:\n    add r16, r0, r1\n",
        "    .rodata\nK:\n    .cell 0x10\n    .text\nmain:\n    ret.ok r0\n",
        // A landing pad's label defined by the text.
        "    .text\nDEFAULT_UNWIND:\n    ret.ok r0\n",
        // Code after a label on its line.
        "    .text\nmain: ret.ok r0\n",
    ];
    for text in declined {
        assert!(assemble_directly(text).is_none(), "{text}");
    }
}
