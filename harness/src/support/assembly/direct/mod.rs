//! A direct assembler for the canonical subset of EraVM assembly this project writes: what the
//! generator emits, and hand-written programs in the same style. It parses each line once,
//! encodes it with zkevm_opcode_defs and links as zkevm-assembly 0.153.8 links, several times
//! faster than zkevm-assembly (docs/performance.md, "Frame level").
//!
//! It declines (returns `None`) anything outside the subset, so that zkevm-assembly decides:
//! every text it accepts assembles to exactly the bytes zkevm-assembly gives (tests, and the
//! `load_inputs` fuzz target, check that byte for byte).
//!
//! The subset: `.text` and `.rodata` sections, each starting with a label; labels alone on their
//! line; `.cell` with an unsigned decimal; comments after `;`. Instructions: arithmetic, bitwise
//! and shifts, `ptr.*`, `nop` (bare, `stack±=[N]`, or four operands), `jump`, `context.*`,
//! `uma.*` and the `ld`/`st` shorthands, `log.*` and `sload`/`sstore`/`tload`/`tstore`/`to_l1`,
//! `near_call`, `far_call`, `ret.*`, `invalid`; conditions as modifiers, `!` for set-flags.
//! Operands: `rN`, a canonical decimal below 2^16, `stack[N]`, `stack-[N]`, `stack+=[N]`,
//! `stack-=[N]`, `@K[N]` for a `.rodata` label, `@label` for a code label.

mod encode;
mod instruction;
mod operand;

use fnv::FnvHashMap;
use zksync_multivm::zk_evm_latest::zkevm_opcode_defs::{InvalidOpcode, Opcode, Operand, RetOpcode};
use zksync_types::U256;

use self::encode::encode;
use self::instruction::{instruction, ret, variant, Fixup, Instruction};

/// Bytecode, and the opcodes of the instructions the text itself wrote (no landing pads).
pub(super) struct Listing {
    pub bytecode: Vec<u8>,
    pub opcodes: Vec<Opcode>,
}

/// The linker's landing pads, appended after the code unless the text defines their labels:
/// (label, return kind, register).
const LANDING_PADS: [(&str, RetOpcode, u8); 3] = [
    ("DEFAULT_UNWIND", RetOpcode::Panic, 0),
    ("DEFAULT_FAR_RETURN", RetOpcode::Ok, 1),
    ("DEFAULT_FAR_REVERT", RetOpcode::Revert, 1),
];

/// Assembles `text`, or `None` if it is outside the subset (zkevm-assembly then decides).
pub(super) fn assemble(text: &str) -> Option<Listing> {
    let mut program = Program::default();
    for line in text.lines() {
        // A byte search: cheaper on a short line than the searcher `split(';')` sets up.
        let code = match line.bytes().position(|b| b == b';') {
            Some(comment) => &line[..comment],
            None => line,
        };
        program.line(code.trim())?;
    }
    program.link()
}

#[derive(Clone, Copy, PartialEq)]
enum Section {
    None,
    Text,
    Rodata,
}

#[derive(Clone, Copy)]
enum Label {
    /// The instruction index (pc) it stands before.
    Code(u16),
    /// Its index among the data words.
    Data(usize),
}

#[derive(Default)]
struct Program<'a> {
    section: Option<Section>,
    /// Whether the current section has a label (zkevm-assembly drops a section that has none),
    /// and whether it has code.
    labelled: bool,
    has_code: bool,
    labels: FnvHashMap<&'a str, Label>,
    code: Vec<Instruction<'a>>,
    data: Vec<U256>,
}

impl<'a> Program<'a> {
    fn line(&mut self, line: &'a str) -> Option<()> {
        if line.is_empty() {
            return Some(());
        }
        let section = self.section.unwrap_or(Section::None);
        if let Some(label) = line.strip_suffix(':') {
            if !is_name(label) || label.starts_with("_INTERNAL") || section == Section::None {
                return None;
            }
            let place = match section {
                Section::Text => Label::Code(u16::try_from(self.code.len()).ok()?),
                _ => Label::Data(self.data.len()),
            };
            self.labelled = true;
            return self.labels.insert(label, place).is_none().then_some(());
        }
        match line {
            ".text" => return self.enter(Section::Text),
            ".rodata" => return self.enter(Section::Rodata),
            _ => {}
        }
        if let Some(value) = line.strip_prefix(".cell ") {
            let value = value.trim_start();
            let decimal = value.bytes().all(|b| b.is_ascii_digit());
            if section != Section::Rodata || !self.labelled || !decimal {
                return None;
            }
            self.data.push(U256::from_dec_str(value).ok()?);
            return Some(());
        }
        if section != Section::Text {
            return None;
        }
        let instruction = instruction(line)?;
        self.code.push(instruction);
        self.has_code = true;
        Some(())
    }

    /// Starts a section, if the one before it is not one zkevm-assembly would drop.
    fn enter(&mut self, section: Section) -> Option<()> {
        if self.has_code && !self.labelled {
            return None;
        }
        self.section = Some(section);
        self.labelled = false;
        self.has_code = false;
        Some(())
    }

    fn link(mut self) -> Option<Listing> {
        self.enter(Section::None)?;
        // Without a code label there is no code: zkevm-assembly says so.
        if !self
            .labels
            .values()
            .any(|label| matches!(label, Label::Code(_)))
        {
            return None;
        }
        let opcodes = self.code.iter().map(|i| i.opcode.variant.opcode).collect();
        for (label, kind, register) in LANDING_PADS {
            if self.labels.contains_key(label) {
                return None;
            }
            let pc = u16::try_from(self.code.len()).ok()?;
            self.labels.insert(label, Label::Code(pc));
            let mut pad = ret(kind, true, register);
            pad.opcode.imm_0 = pc;
            self.code.push(pad);
        }
        for _ in (self.code.len() % 4)..4 {
            self.code.push(Instruction::plain(variant(
                Opcode::Invalid(InvalidOpcode),
                Operand::RegOnly,
                Operand::RegOnly,
            )));
        }
        let code_words = self.code.len() / 4;
        let words = code_words + self.data.len();
        if self.code.len() > usize::from(u16::MAX) || words > usize::from(u16::MAX) {
            return None;
        }
        let mut bytecode = Vec::with_capacity((words + 1) * 32);
        for instruction in &self.code {
            let mut opcode = instruction.opcode;
            for (slot, fixup) in instruction.imm.iter().enumerate() {
                let value = match *fixup {
                    None => continue,
                    Some(Fixup::Code(label)) => match self.labels.get(label)? {
                        Label::Code(pc) => *pc,
                        Label::Data(_) => return None,
                    },
                    Some(Fixup::Data(label, offset)) => match self.labels.get(label)? {
                        // The word's index in the bytecode, wrapping at 16 bits as zkevm-assembly
                        // stores it.
                        Label::Data(index) => (code_words + index) as u16 + offset,
                        Label::Code(_) => return None,
                    },
                };
                *[&mut opcode.imm_0, &mut opcode.imm_1][slot] = value;
            }
            bytecode.extend(encode(&opcode)?.to_be_bytes());
        }
        for value in &self.data {
            let mut word = [0; 32];
            value.to_big_endian(&mut word);
            bytecode.extend(word);
        }
        if words.is_multiple_of(2) {
            bytecode.extend([0; 32]);
        }
        Some(Listing { bytecode, opcodes })
    }
}

/// A label name as zkevm-assembly reads one.
fn is_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}
