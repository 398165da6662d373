//! Compute the features Cargo enables for every crate in a dependency graph.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// `from` depends on `name`, requesting `features` and (maybe) the defaults.
#[derive(Debug, Clone)]
pub struct Dep {
    pub name: String,
    pub default_features: bool,
    pub features: Vec<String>,
}

/// Shorthand for building a [`Dep`].
pub fn dep(name: &str, default_features: bool, features: &[&str]) -> Dep {
    Dep {
        name: name.to_string(),
        default_features,
        features: features.iter().map(|s| s.to_string()).collect(),
    }
}

/// One crate: its `[features]` table and its dependencies.
///
/// A feature's value lists what it enables: either another feature of the
/// same crate (`"rt"`) or a feature of one of its dependencies (`"tokio/net"`).
#[derive(Debug, Clone, Default)]
pub struct Crate {
    pub features: BTreeMap<String, Vec<String>>,
    pub deps: Vec<Dep>,
}

/// All crates by name.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub crates: BTreeMap<String, Crate>,
}

impl Graph {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a crate: `features` is its `[features]` table, `deps` its dependencies.
    pub fn krate(mut self, name: &str, features: &[(&str, &[&str])], deps: Vec<Dep>) -> Self {
        let features = features
            .iter()
            .map(|(f, enables)| (f.to_string(), enables.iter().map(|s| s.to_string()).collect()))
            .collect();
        self.crates.insert(name.to_string(), Crate { features, deps });
        self
    }

    /// Builds `root` with `features` (and its defaults if `default_features`),
    /// like `cargo build -F ...` / `--no-default-features`.
    ///
    /// Returns, for every crate reachable from `root`, the set of features
    /// enabled on it after unification. Errors if a crate is missing from the
    /// graph or a feature that is requested does not exist.
    pub fn unify(
        &self,
        root: &str,
        features: &[&str],
        default_features: bool,
    ) -> Result<BTreeMap<String, BTreeSet<String>>, String> {
        let _ = (root, features, default_features);
        todo!("walk the graph from `root` and unify features")
    }
}
