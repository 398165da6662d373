//! The layers of the crate stay acyclic: no chain of `crate::…` imports
//! leads from one of the top-level modules below back to itself. A cycle
//! means two modules can only be understood (and changed) together; this
//! reads the sources the way `cargo modules` would, without the tool.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The modules whose dependencies must form no cycle.
const LAYERED: &[&str] = &[
    "auth",
    "web",
    "app",
    "config",
    "grading",
    "progress",
    "instructor",
];

/// Known edges that close a cycle, each with the work that removes it
/// (none left: the grader's settings are plain data in `config`).
const KNOWN: &[(&str, &str)] = &[];

/// `module → modules it names as crate::…` for every top-level module, from
/// code lines only (comments may mention anything).
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut pending = vec![src.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src").flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(&src).expect("under src");
            let first = relative.components().next().expect("a component");
            let module = first
                .as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string();
            let text = std::fs::read_to_string(&path).expect("read a source file");
            for line in text.lines().map(str::trim).filter(|l| !l.starts_with("//")) {
                for (index, _) in line.match_indices("crate::") {
                    let name: String = line[index + "crate::".len()..]
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if name != module {
                        edges.entry(module.clone()).or_default().insert(name);
                    }
                }
            }
        }
    }
    edges
}

#[test]
fn the_layered_modules_have_no_import_cycle() {
    let mut edges = dependencies();
    for (from, to) in KNOWN {
        if let Some(targets) = edges.get_mut(*from) {
            targets.remove(*to);
        }
    }
    for start in LAYERED {
        // Depth-first from `start`, remembering the path, until it comes back.
        let mut stack = vec![(start.to_string(), vec![start.to_string()])];
        let mut seen = BTreeSet::new();
        while let Some((module, path)) = stack.pop() {
            for next in edges.get(&module).into_iter().flatten() {
                if next == start {
                    panic!("import cycle: {} → {start}", path.join(" → "));
                }
                if seen.insert(next.clone()) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
}

#[test]
fn the_domain_modules_know_nothing_of_http() {
    let edges = dependencies();
    for domain in ["auth", "grading", "progress", "instructor"] {
        let uses: Vec<_> = edges
            .get(domain)
            .into_iter()
            .flatten()
            .filter(|m| ["web", "app", "application", "server"].contains(&m.as_str()))
            .collect();
        assert!(uses.is_empty(), "{domain} imports {uses:?}");
    }
}
