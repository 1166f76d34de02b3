//! Bad input: a file that is missing or malformed. The CLI exits with status 2 on these.

use std::{fmt, path::Path};

/// An input the harness cannot use, naming where it came from and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {problem}")]
pub struct InputError {
    /// A file path, or a description of an in-memory input.
    pub origin: String,
    pub problem: String,
}

impl InputError {
    pub fn new(origin: impl Into<String>, problem: impl fmt::Display) -> Self {
        Self {
            origin: origin.into(),
            problem: problem.to_string(),
        }
    }

    pub fn at(path: &Path, problem: impl fmt::Display) -> Self {
        Self::new(path.display().to_string(), problem)
    }

    /// The same problem, attributed to a larger input (e.g. a contract inside a batch file).
    pub fn within(self, origin: impl fmt::Display) -> Self {
        Self::new(
            origin.to_string(),
            format!("{}: {}", self.origin, self.problem),
        )
    }
}

/// Reads a whole file, naming it in the error.
pub fn read_file(path: &Path) -> Result<Vec<u8>, InputError> {
    std::fs::read(path).map_err(|err| InputError::at(path, format!("cannot read: {err}")))
}
