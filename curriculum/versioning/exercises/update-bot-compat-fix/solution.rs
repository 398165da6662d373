//! The planning step of a small dependency-update bot.
//!
//! For every crate in the lock file it proposes:
//! * an automatic update to the newest *compatible* release (merged if CI passes),
//! * a manual review item when a newer *incompatible* release exists.

use std::collections::BTreeMap;

pub use semver::Version;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    pub name: String,
    pub from: Version,
    pub to: Version,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Compatible updates: safe to batch into one automatic PR.
    pub automatic: Vec<Update>,
    /// Newer incompatible releases: each needs a human (and code changes).
    pub manual: Vec<Update>,
}

/// Can `cargo update` move from `current` to `candidate` without touching
/// `Cargo.toml`? (Same compatibility range, not older.)
pub fn is_compatible(current: &Version, candidate: &Version) -> bool {
    if candidate < current {
        return false;
    }
    // Cargo's rule: the left-most non-zero component must stay the same.
    if current.major != 0 {
        candidate.major == current.major
    } else if current.minor != 0 {
        candidate.major == 0 && candidate.minor == current.minor
    } else {
        candidate.major == 0 && candidate.minor == 0 && candidate.patch == current.patch
    }
}

/// Builds the plan. `lock` lists the locked version of each crate,
/// `registry` every published version (any order). Pre-releases are ignored.
pub fn plan(lock: &[(&str, Version)], registry: &BTreeMap<String, Vec<Version>>) -> Plan {
    let mut plan = Plan::default();
    for (name, current) in lock {
        let Some(published) = registry.get(*name) else { continue };
        let releases = published.iter().filter(|v| v.pre.is_empty());
        let newest_compatible = releases
            .clone()
            .filter(|v| *v > current && is_compatible(current, v))
            .max();
        let newest = releases.filter(|v| *v > current).max();
        if let Some(to) = newest_compatible {
            plan.automatic.push(Update { name: name.to_string(), from: current.clone(), to: to.clone() });
        }
        if let Some(to) = newest.filter(|v| !is_compatible(current, v)) {
            plan.manual.push(Update { name: name.to_string(), from: current.clone(), to: to.clone() });
        }
    }
    plan
}
