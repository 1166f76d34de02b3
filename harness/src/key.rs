//! The one form of every key that names a disagreement: `fp-` (a symptom: where two outcomes
//! differ), `cause-` (the first instruction where two engines part ways) and `da-` (what the
//! data-availability check found), each over lines that never hold values.

use sha2::{Digest, Sha256};

/// What a key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// `fp-`: where two outcomes differ.
    Symptom,
    /// `cause-`: what two engines' steps differ in first.
    Cause,
    /// `da-`: what the data-availability check found wrong with one engine's pubdata.
    Da,
}

impl KeyKind {
    pub const fn prefix(self) -> &'static str {
        match self {
            Self::Symptom => "fp",
            Self::Cause => "cause",
            Self::Da => "da",
        }
    }
}

/// The prefix of `kind`, `-`, and the first 16 hex digits of the SHA-256 of `lines` joined by
/// newlines.
pub fn key(kind: KeyKind, lines: &[String]) -> String {
    let prefix = kind.prefix();
    let digest = Sha256::digest(lines.join("\n").as_bytes());
    format!("{prefix}-{}", &hex::encode(digest)[..16])
}

/// The keys one disagreement shows, in the order that picks the key it is known by: the DA
/// violations first (an engine inconsistent with itself), then the cause, then the symptom.
pub fn by_precedence<'a>(
    da: Option<&'a str>,
    cause: Option<&'a str>,
    symptom: Option<&'a str>,
) -> impl Iterator<Item = &'a str> {
    [da, cause, symptom].into_iter().flatten()
}
