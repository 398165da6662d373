//! Embeds the files Lockstep needs at run time (static files, the default
//! programme, the grader's pinned workspace) in the binary: writes
//! `$OUT_DIR/bundle.rs`, one `include_bytes!` per file, for `src/bundle.rs`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// (constant name, directory under the package root, subdirectories left out).
const TREES: &[(&str, &str, &[&str])] = &[
    ("STATIC_FILES", "static", &[]),
    ("CURRICULUM_FILES", "curriculum", &["target"]),
    // Its build output, if someone built it in place, is not part of it.
    ("GRADER_DEPS_FILES", "grader/deps", &["target"]),
];

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let mut code = String::new();
    for (name, dir, skipped) in TREES {
        // A directory makes cargo rerun this script when any file under it
        // changes (added files included, which `include_bytes!` cannot see).
        println!("cargo:rerun-if-changed={dir}");
        let base = root.join(dir);
        let mut files = Vec::new();
        collect(&base, &base, skipped, &mut files);
        files.sort();
        writeln!(code, "pub static {name}: &[(&str, &[u8])] = &[").unwrap();
        for relative in files {
            let absolute = base.join(&relative);
            writeln!(
                code,
                "    ({relative:?}, include_bytes!({:?})),",
                absolute.to_str().expect("a UTF-8 path")
            )
            .unwrap();
        }
        writeln!(code, "];").unwrap();
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("bundle.rs");
    std::fs::write(out, code).expect("write bundle.rs");
}

/// Every file under `dir`, as a `/`-separated path relative to `base`.
fn collect(base: &Path, dir: &Path, skipped: &[&str], files: &mut Vec<String>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.expect("a directory entry");
        let path = entry.path();
        let relative = path.strip_prefix(base).expect("under base");
        let relative = relative.to_str().expect("a UTF-8 path").to_string();
        let file_type = entry.file_type().expect("a file type");
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden {
            // Editors' swap files and the like are no content.
            continue;
        } else if file_type.is_dir() {
            if !skipped.contains(&relative.as_str()) {
                collect(base, &path, skipped, files);
            }
        } else if file_type.is_file() {
            files.push(relative);
        }
    }
}
