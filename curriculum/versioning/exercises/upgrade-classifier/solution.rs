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
    if v.major > 0 {
        Version::new(v.major + 1, 0, 0)
    } else if v.minor > 0 {
        Version::new(0, v.minor + 1, 0)
    } else {
        Version::new(0, 0, v.patch + 1)
    }
}

/// Classify moving a lock file entry from `from` (always a release, never a
/// pre-release) to `to`.
pub fn classify(from: &Version, to: &Version) -> Upgrade {
    use std::cmp::Ordering::*;
    match to.cmp(from) {
        Equal => return Upgrade::Unchanged,
        Less => return Upgrade::Downgrade,
        Greater => {}
    }
    if !to.pre.is_empty() {
        return Upgrade::PreRelease;
    }
    if *to >= caret_upper_bound(from) {
        return Upgrade::Breaking;
    }
    if to.major == from.major && to.minor == from.minor {
        Upgrade::Patch
    } else {
        Upgrade::Minor
    }
}
