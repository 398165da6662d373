//! What counts as learner code wherever it enters Lockstep (the grading API,
//! drafts, the command line): text PostgreSQL can store, within one size cap.

use std::fmt;

/// The largest learner code accepted, in bytes.
pub const MAX_CODE_BYTES: usize = 64 * 1024;

/// Why a piece of code cannot be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeProblem {
    /// Longer than [`MAX_CODE_BYTES`]; its size in KiB, rounded up.
    TooLarge {
        /// Size of the code in KiB.
        kib: usize,
    },
    /// Contains a NUL character, which PostgreSQL text cannot hold.
    Nul,
}

/// Checks the size cap and that the text can be stored.
pub fn check(code: &str) -> Result<(), CodeProblem> {
    if code.len() > MAX_CODE_BYTES {
        return Err(CodeProblem::TooLarge {
            kib: code.len().div_ceil(1024),
        });
    }
    if code.contains('\0') {
        return Err(CodeProblem::Nul);
    }
    Ok(())
}

/// Reads as the end of a sentence about the code: "code is 70 KiB; …".
impl fmt::Display for CodeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodeProblem::TooLarge { kib } => write!(
                f,
                "is {kib} KiB; the limit is {} KiB",
                MAX_CODE_BYTES / 1024
            ),
            CodeProblem::Nul => write!(f, "contains a NUL character"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_is_inclusive_and_nul_is_refused() {
        assert_eq!(check(&"x".repeat(MAX_CODE_BYTES)), Ok(()));
        assert_eq!(
            check(&"x".repeat(MAX_CODE_BYTES + 1)),
            Err(CodeProblem::TooLarge { kib: 65 })
        );
        assert_eq!(check("fn main() {}\0"), Err(CodeProblem::Nul));
    }
}
