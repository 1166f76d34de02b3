//! EraVM programs from fuzzer bytes, valid by construction: every program assembles (checked
//! by a property test), every jump goes forward or round a bounded loop, and kernel-only opcodes
//! are emitted mostly in contracts placed in kernel space.
//!
//! A program is a list of fragments, one family of opcodes each (arithmetic, memory, pointers,
//! context, storage, logs, near and far calls, returns); fragments nest inside forward skips,
//! bounded loops and near-called subroutines.
//!
//! Register use: r1 is the far-call ABI and the returned pointer; r2 the call target; r2..r9 hold
//! values; r10 holds pointers; r11 storage keys; r12 scratch for operands built at run time;
//! r13 scratch for pointer fields; r15 counts loop iterations. Stack slots 0 and 1 keep the calldata and the last returndata
//! pointer (pointers keep their tag only in registers and on the stack).

/// Writes a line of code formatted in place: `emit!(self, "add {a}, r0, r1")` is
/// `self.emit(format!(…))` without a string per line.
macro_rules! emit {
    ($builder:expr, $($format:tt)*) => {
        $builder.emit(format_args!($($format)*))
    };
}

mod aimed;
mod bounded;
mod families;
mod operands;

use std::fmt::Write;

use arbitrary::{Result, Unstructured};

use self::aimed::Aim;
use zksync_types::{Address, H256, U256};

/// What a program can refer to besides itself.
#[derive(Debug, Clone, Copy)]
pub struct ProgramContext<'a> {
    /// The contract's own address.
    pub this: Address,
    /// Other contracts worth calling: generated peers, system contracts, accounts.
    pub call_targets: &'a [Address],
    /// Code hashes worth decommitting.
    pub code_hashes: &'a [H256],
    /// Whether the program's body is guarded and repeated ([`Builder::guarded_body`]), as frame
    /// level has it: a failing instruction ends its fragment rather than the frame, and the body
    /// runs again on the state it left, so a frame runs most of its code, several times.
    pub guarded_body: bool,
}

impl ProgramContext<'_> {
    /// Below 2^16: kernel-only opcodes succeed.
    fn is_kernel(&self) -> bool {
        self.this < Address::from_low_u64_be(1 << 16)
    }
}

/// Generates the assembly text of one contract.
pub fn program(u: &mut Unstructured, cx: &ProgramContext<'_>) -> Result<String> {
    let mut builder = Builder::new(cx);
    builder.main(u)?;
    Ok(builder.finish())
}

/// Where a fragment is placed, which limits what it may contain.
#[derive(Clone, Copy)]
struct Scope {
    /// Inside a loop body: nothing that zeroes r15 (far calls) or calls.
    in_loop: bool,
    /// Nesting depth of skips, loops and subroutines.
    depth: u8,
}

const MAX_DEPTH: u8 = 3;
const STACK_SLOTS: u16 = 16;
/// The `context.*` readers, by their assembly names.
const CONTEXT_READERS: &[&str] = &[
    "this",
    "caller",
    "code_source",
    "meta",
    "ergs_left",
    "sp",
    "get_context_u128",
];

struct Builder<'a> {
    cx: &'a ProgramContext<'a>,
    /// The code written so far, a line each.
    code: String,
    subroutines: Vec<String>,
    constants: Vec<U256>,
    labels: usize,
}

impl<'a> Builder<'a> {
    fn new(cx: &'a ProgramContext<'a>) -> Self {
        Self {
            cx,
            code: String::with_capacity(4096),
            subroutines: vec![],
            constants: vec![],
            labels: 0,
        }
    }

    fn emit(&mut self, line: impl std::fmt::Display) {
        let _ = writeln!(self.code, "    {line}");
    }

    fn label(&mut self, name: &str) {
        self.code.push_str(name);
        self.code.push_str(":\n");
    }

    fn fresh_label(&mut self, kind: &str) -> String {
        self.labels += 1;
        format!("{kind}_{}", self.labels)
    }

    /// A code constant holding `value`, as an operand.
    fn constant(&mut self, value: U256) -> String {
        let index = match self.constants.iter().position(|c| *c == value) {
            Some(index) => index,
            None => {
                self.constants.push(value);
                self.constants.len() - 1
            }
        };
        format!("@K[{index}]")
    }

    fn main(&mut self, u: &mut Unstructured) -> Result<()> {
        self.label("__entry");
        emit!(self, "nop stack+=[{STACK_SLOTS}]");
        self.emit("ptr.add r1, r0, stack[0]");
        self.emit("ptr.add r1, r0, stack[1]");
        let scope = Scope {
            in_loop: false,
            depth: 0,
        };
        let count = u.int_in_range(2..=24)?;
        if self.cx.guarded_body {
            return self.guarded_body(u, count, scope);
        }
        for _ in 0..count {
            self.fragment(u, scope)?;
        }
        self.far_return(u)
    }

    /// The body (`count` fragments, each [guarded](Self::guarded)) as a subroutine near-called
    /// 1–6 times with all the ergs left, each run on the registers, stack, memory and storage the
    /// run before it left; then the far return.
    fn guarded_body(&mut self, u: &mut Unstructured, count: u32, scope: Scope) -> Result<()> {
        let body = self.fresh_label("body");
        for _ in 0..u.int_in_range(1..=6)? {
            let after = self.fresh_label("body_end");
            emit!(self, "near_call r0, @{body}, @{after}");
            self.label(&after);
        }
        self.far_return(u)?;
        self.subroutine(&body, |this| {
            for _ in 0..count {
                this.guarded(u, scope)?;
            }
            this.emit("ret.ok r0");
            Ok(())
        })
    }

    /// A fragment in a near-called subroutine given an eighth of the ergs left, whose panic
    /// handler is the instruction after the call: a panic or revert inside burns that eighth
    /// and goes on with the next fragment.
    fn guarded(&mut self, u: &mut Unstructured, scope: Scope) -> Result<()> {
        let (sub, after) = (self.fresh_label("guarded"), self.fresh_label("guard_end"));
        self.emit("context.ergs_left r12");
        self.emit("shr.s 3, r12, r12");
        emit!(self, "near_call r12, @{sub}, @{after}");
        self.label(&after);
        self.subroutine(&sub, |this| {
            this.fragment(u, scope)?;
            this.emit("ret.ok r0");
            Ok(())
        })
    }

    /// What `write` emits, as a subroutine at `label`, placed after the program's own code.
    fn subroutine(
        &mut self,
        label: &str,
        write: impl FnOnce(&mut Self) -> Result<()>,
    ) -> Result<()> {
        let outer = std::mem::take(&mut self.code);
        self.label(label);
        let written = write(self);
        let code = std::mem::replace(&mut self.code, outer);
        self.subroutines.push(code);
        written
    }

    fn finish(self) -> String {
        let mut text = String::new();
        if !self.constants.is_empty() {
            text.push_str("    .rodata\nK:\n");
            for &value in &self.constants {
                text.push_str("    .cell ");
                write_decimal(&mut text, value);
                text.push('\n');
            }
        }
        text.push_str("    .text\n");
        text.push_str(&self.code);
        for code in &self.subroutines {
            text.push_str(code);
        }
        text
    }

    fn fragment(&mut self, u: &mut Unstructured, scope: Scope) -> Result<()> {
        let nested = scope.depth < MAX_DEPTH;
        let calls = nested && !scope.in_loop;
        // (weight, allowed) per family, in the order of the match below.
        let table = [
            (120, true),  // arithmetic
            (40, true),   // mul / div
            (60, true),   // shifts and bitwise
            (40, true),   // constants
            (60, true),   // heap and aux heap
            (50, true),   // pointers
            (40, true),   // context
            (60, true),   // storage
            (50, true),   // transient storage
            (40, true),   // kernel logs
            (40, nested), // forward skip
            (20, calls),  // bounded loop
            (50, calls),  // near call
            (70, calls),  // far call
            (10, true),   // nop and stack pointer moves
            (10, true),   // invalid instruction
            (1, true),    // static memory: rare, vm2 does not implement it
            (300, true),  // aimed at a cell of the coverage model
        ];
        let total: u32 = table.iter().filter(|(_, ok)| *ok).map(|(w, _)| w).sum();
        let mut pick = u.int_in_range(0..=total - 1)?;
        let mut family = 0;
        for (index, (weight, ok)) in table.iter().enumerate() {
            if !ok {
                continue;
            }
            if pick < *weight {
                family = index;
                break;
            }
            pick -= weight;
        }
        match family {
            0 => self.arithmetic(u),
            1 => self.mul_div(u),
            2 => self.shift_or_bitwise(u),
            3 => self.load_constant(u),
            4 => self.heap(u),
            5 => self.pointer(u),
            6 => self.context(u),
            7 => self.storage(u, "sload", "sstore"),
            8 => self.storage(u, "tload", "tstore"),
            9 => self.kernel_log(u),
            10 => self.forward_skip(u, scope),
            11 => self.bounded_loop(u, scope),
            12 => self.near_call(u, scope, &Aim::default()),
            13 => self.far_call(u, &Aim::default()),
            14 => self.nop(u),
            15 => {
                self.emit("invalid");
                Ok(())
            }
            16 => self.static_memory(u),
            _ => self.aimed(u, scope),
        }
    }
}

/// Writes `value` in decimal, as `U256`'s `Display` does, but dividing by 10^19 at a time
/// rather than by 10 (that was a third of generating a frame's programs).
fn write_decimal(text: &mut String, value: U256) {
    const CHUNK: u128 = 10_000_000_000_000_000_000;
    let mut limbs = value.0;
    // Base-10^19 digits, least significant first: 2^256 < 10^95.
    let mut digits = [0u64; 5];
    let mut count = 0;
    loop {
        let mut remainder = 0u128;
        for limb in limbs.iter_mut().rev() {
            let part = remainder << 64 | u128::from(*limb);
            *limb = (part / CHUNK) as u64;
            remainder = part % CHUNK;
        }
        digits[count] = remainder as u64;
        count += 1;
        if limbs == [0; 4] {
            break;
        }
    }
    let _ = write!(text, "{}", digits[count - 1]);
    for digit in digits[..count - 1].iter().rev() {
        let _ = write!(text, "{digit:019}");
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};

    use super::*;

    #[test]
    fn decimals_are_what_display_writes() {
        let chunk = U256::from(10_000_000_000_000_000_000u64);
        let mut values = vec![
            U256::zero(),
            U256::one(),
            chunk - 1,
            chunk,
            chunk * chunk + 1,
            U256::from(u128::MAX),
            U256::one() << 255,
            U256::MAX,
        ];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        values.extend((0..1000).map(|_| U256(rng.gen()) >> rng.gen_range(0..256)));
        for value in values {
            let mut text = String::new();
            write_decimal(&mut text, value);
            assert_eq!(text, value.to_string());
        }
    }
}
