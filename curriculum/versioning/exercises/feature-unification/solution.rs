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
        let mut enabled: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut reached: BTreeSet<String> = BTreeSet::new();
        // Work items: (crate, Some(feature)) or (crate, None) = "crate is reached".
        let mut queue: VecDeque<(String, Option<String>)> = VecDeque::new();
        queue.push_back((root.to_string(), None));
        if default_features {
            queue.push_back((root.to_string(), Some("default".to_string())));
        }
        for f in features {
            queue.push_back((root.to_string(), Some(f.to_string())));
        }

        while let Some((name, feature)) = queue.pop_front() {
            let krate = self
                .crates
                .get(&name)
                .ok_or_else(|| format!("crate `{name}` is not in the graph"))?;
            match feature {
                None => {
                    if !reached.insert(name.clone()) {
                        continue; // its dependency edges are already queued
                    }
                    enabled.entry(name.clone()).or_default();
                    for d in &krate.deps {
                        queue.push_back((d.name.clone(), None));
                        if d.default_features {
                            queue.push_back((d.name.clone(), Some("default".to_string())));
                        }
                        for f in &d.features {
                            queue.push_back((d.name.clone(), Some(f.clone())));
                        }
                    }
                }
                Some(feature) => {
                    let Some(enables) = krate.features.get(&feature) else {
                        if feature == "default" {
                            // Asking for the defaults of a crate without a `default`
                            // feature is fine: there are none.
                            queue.push_back((name, None));
                            continue;
                        }
                        return Err(format!("crate `{name}` has no feature `{feature}`"));
                    };
                    queue.push_back((name.clone(), None));
                    let set = enabled.entry(name.clone()).or_default();
                    if !set.insert(feature.clone()) {
                        continue; // already processed
                    }
                    for item in enables {
                        match item.split_once('/') {
                            Some((dep_name, dep_feature)) => {
                                if !krate.deps.iter().any(|d| d.name == dep_name) {
                                    return Err(format!(
                                        "feature `{feature}` of `{name}` refers to `{dep_name}`, which is not a dependency"
                                    ));
                                }
                                queue.push_back((dep_name.to_string(), Some(dep_feature.to_string())));
                            }
                            None => queue.push_back((name.clone(), Some(item.clone()))),
                        }
                    }
                }
            }
        }
        Ok(enabled)
    }
}
