//! EraVM assembly to bytecode: the direct assembler ([`direct`]) for the canonical subset this
//! project writes, zkevm-assembly for the rest, with the assembler's silent traps turned into
//! errors: this never panics and never returns bytecode that differs from what the text says.
//!
//! zkevm-assembly 0.153.8 silently drops a section without a label, truncates immediates to 16
//! bits, ignores the sign of negative numbers, skips `.cell` lines that are not decimal, and
//! encodes registers above r15 wrongly in release builds; it panics on trailing whitespace after
//! a register operand and on non-ASCII text. Comments are removed before assembling, so they do
//! not change the bytecode (no metadata hash is appended).

mod direct;

use zkevm_assembly::Assembly;
use zksync_multivm::zk_evm_latest::zkevm_opcode_defs::{decoding::EncodingModeProduction, Opcode};

use crate::support::panic_guard;

/// Assembles `text` into EraVM bytecode (a whole number of 32-byte words, odd in count).
pub fn assemble(text: &str) -> Result<Vec<u8>, String> {
    match direct::assemble(text) {
        Some(listing) => Ok(listing.bytecode),
        None => assemble_with_zkevm_assembly(text),
    }
}

/// The bytecode of the direct assembler, if `text` is in its subset: always what
/// [`assemble_with_zkevm_assembly`] gives (tests and the `load_inputs` fuzz target check it).
pub fn assemble_directly(text: &str) -> Option<Vec<u8>> {
    direct::assemble(text).map(|listing| listing.bytecode)
}

/// Assembles `text` with zkevm-assembly alone, the direct assembler's reference.
pub fn assemble_with_zkevm_assembly(text: &str) -> Result<Vec<u8>, String> {
    let (_, words) = compile_code(text)?;
    Ok(words.concat())
}

/// Assembles `text` as [`assemble`] does, and lists the opcodes of the instructions it
/// assembled to, in program order, without the landing pads and padding the linker appends (so
/// they are what the text itself emits).
pub fn assemble_listing(text: &str) -> Result<(Vec<u8>, Vec<Opcode>), String> {
    if let Some(listing) = direct::assemble(text) {
        return Ok((listing.bytecode, listing.opcodes));
    }
    let (assembly, words) = compile_code(text)?;
    let decoded = guarded(|| assembly.opcodes::<8, EncodingModeProduction>())?;
    let end = assembly
        .function_labels
        .get("DEFAULT_UNWIND")
        .copied()
        .unwrap_or(decoded.len());
    let opcodes = (decoded[..end.min(decoded.len())].iter())
        .map(|opcode| opcode.variant.opcode)
        .collect();
    Ok((words.concat(), opcodes))
}

/// [`compile`], refusing a text without code of its own.
fn compile_code(text: &str) -> Result<(Assembly, Vec<[u8; 32]>), String> {
    let (assembly, words) = compile(text)?;
    // The linker adds its own landing pads; a section without a label of ours was dropped.
    let has_code = assembly
        .function_labels
        .keys()
        .any(|label| !label.starts_with("DEFAULT_") && !label.starts_with("_INTERNAL"));
    if !has_code {
        return Err("no code: a `.text` section with at least one label is required".into());
    }
    Ok((assembly, words))
}

/// Cleans, parses and links `text`: the linked assembly and its bytecode words.
fn compile(text: &str) -> Result<(Assembly, Vec<[u8; 32]>), String> {
    let clean = clean(text)?;
    let mut assembly = guarded(move || Assembly::from_string(clean, None))?;
    let words = guarded(|| assembly.compile_to_bytecode())?;
    Ok((assembly, words))
}

/// Runs an assembler step, turning its panics and errors into messages.
fn guarded<T, E: std::fmt::Display>(step: impl FnOnce() -> Result<T, E>) -> Result<T, String> {
    panic_guard::catch(step)
        .map_err(|panic| format!("assembler failed: {panic}"))?
        .map_err(|err| format!("does not assemble: {err}"))
}

/// Strips comments and stray whitespace, and rejects what the assembler would mis-assemble.
fn clean(text: &str) -> Result<String, String> {
    let mut clean = String::with_capacity(text.len());
    for (number, line) in text.lines().enumerate() {
        let code = line.split(';').next().unwrap_or_default().trim_end();
        let fail = |problem: String| format!("line {}: {problem}: `{}`", number + 1, code.trim());
        if !code.is_ascii() {
            return Err(fail("non-ASCII characters outside a comment".into()));
        }
        let code = code.replace(" ,", ",").replace("\t,", ",");
        check_line(&code).map_err(fail)?;
        clean.push_str(&code);
        clean.push('\n');
    }
    Ok(clean)
}

fn check_line(code: &str) -> Result<(), String> {
    let trimmed = code.trim_start();
    if let Some(value) = trimmed.strip_prefix(".cell") {
        let value = value.trim();
        let decimal = value.strip_prefix(['-', '+']).unwrap_or(value);
        let is_decimal = !decimal.is_empty() && decimal.bytes().all(|b| b.is_ascii_digit());
        if !value.starts_with('@') && !is_decimal {
            return Err("`.cell` takes a decimal number or `@label`".into());
        }
        return Ok(());
    }
    if trimmed.starts_with('.') || trimmed.contains(':') {
        return Ok(());
    }
    let Some((mnemonic, operands)) = trimmed.split_once(char::is_whitespace) else {
        return Ok(());
    };
    if mnemonic.contains("..") {
        return Err(format!("malformed mnemonic `{mnemonic}`"));
    }
    for operand in operands.split(',').map(str::trim) {
        check_operand(operand)?;
    }
    Ok(())
}

fn check_operand(operand: &str) -> Result<(), String> {
    if operand.starts_with('-') {
        return Err(format!(
            "negative immediate `{operand}` (the assembler drops the sign)"
        ));
    }
    for token in operand.split(|c: char| !c.is_ascii_alphanumeric() && c != '#' && c != '_') {
        if let Some(index) = token
            .strip_prefix('r')
            .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        {
            if index.parse::<u32>().map_or(true, |index| index > 15) {
                return Err(format!("no register `{token}` (r0..r15)"));
            }
        }
    }
    let immediate = operand.strip_prefix('#').unwrap_or(operand);
    let value = if let Some(hex) = immediate.strip_prefix("0x") {
        u64::from_str_radix(hex, 16).ok()
    } else if let Some(binary) = immediate.strip_prefix("0b") {
        u64::from_str_radix(binary, 2).ok()
    } else if immediate.bytes().all(|b| b.is_ascii_digit()) && !immediate.is_empty() {
        Some(immediate.parse::<u64>().unwrap_or(u64::MAX))
    } else {
        None
    };
    match value {
        Some(value) if value > u64::from(u16::MAX) => Err(format!(
            "immediate `{operand}` does not fit in 16 bits; load it from `.rodata` instead"
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RETURN_OK: &str = "    .text\n__entry:\n    ret.ok r0\n";

    #[test]
    fn minimal_program_is_three_words() {
        let code = assemble(RETURN_OK).unwrap();
        assert_eq!(code.len() % 64, 32, "odd number of 32-byte words");
    }

    #[test]
    fn comments_do_not_change_bytecode() {
        let commented = "; header\n    .text\n__entry:   ; entry\n    ret.ok r0 ; done\n";
        assert_eq!(assemble(commented).unwrap(), assemble(RETURN_OK).unwrap());
    }

    #[test]
    fn traps_become_errors() {
        let cases = [
            ("    .text\n    ret.ok r0\n", "no code"),
            (
                "    .text\nmain:\n    frobnicate r1, r2\n",
                "does not assemble",
            ),
            ("    .text\nmain:\n    add 70000, r0, r1\n", "16 bits"),
            ("    .text\nmain:\n    add -1, r0, r1\n", "negative"),
            (
                "    .text\nmain:\n    add r16, r0, r1\n",
                "no register `r16`",
            ),
            (
                "    .text\nmain:\n    add..eq r1, r0, r1\n",
                "malformed mnemonic",
            ),
            ("    .rodata\nC:\n    .cell 0x10\n", "decimal"),
            ("    .text\nmain:\n    add r1, r0, r\u{e9}\n", "non-ASCII"),
            (
                "    .text\nmain:\n    log.sread.first r1, r0, r2\n",
                "assembler failed",
            ),
        ];
        for (text, expected) in cases {
            let err = assemble(text).unwrap_err();
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }
}
