//! Classify a dependency upgrade the way Cargo sees it.

pub use semver::Version;

/// How a move from one locked version to another looks to Cargo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upgrade {
    /// Same version.
    Unchanged,
    /// `to` is older than `from`.
    Downgrade,
    /// Newer and compatible; only the patch number changed (`1.2.3 -> 1.2.9`, `0.2.3 -> 0.2.4`).
    Patch,
    /// Newer and compatible; the minor number changed (`1.2.3 -> 1.4.0`).
    Minor,
    /// Newer, but outside `from`'s compatibility range (`1.x -> 2.0`, `0.2 -> 0.3`, `0.0.3 -> 0.0.4`).
    Breaking,
    /// Newer, but `to` is a pre-release: `cargo update` never picks it on its own.
    PreRelease,
}

/// The first version that is *not* compatible with `v` under Cargo's rule
/// ("the left-most non-zero component must stay the same").
/// `1.2.3 -> 2.0.0`, `0.2.3 -> 0.3.0`, `0.0.3 -> 0.0.4`.
pub fn caret_upper_bound(v: &Version) -> Version {
    todo!("upper bound of the compatibility range of {v}")
}

/// Classify moving a lock file entry from `from` (always a release, never a
/// pre-release) to `to`.
pub fn classify(from: &Version, to: &Version) -> Upgrade {
    // A first attempt that only looks at the numbers. It ignores
    // Cargo's compatibility rule and pre-releases entirely.
    if to == from {
        Upgrade::Unchanged
    } else if to < from {
        Upgrade::Downgrade
    } else if to.major != from.major {
        Upgrade::Breaking
    } else if to.minor != from.minor {
        Upgrade::Minor
    } else {
        Upgrade::Patch
    }
}
