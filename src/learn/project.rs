//! The Cargo project `lockstep learn download` writes, laid out so plain
//! `cargo test` compiles what the grader compiles:
//!
//! ```text
//! Cargo.toml        the exercise's crate name and edition; the crates its files use, pinned
//!                   with `=x.y.z` to the grader's versions (the others listed, commented out)
//! Cargo.lock        the grader's lock, so indirect dependencies match too
//! build.rs          only for exercises compiled with extra `--cfg` flags (e.g. `loom`)
//! .cargo/config.toml  only for exercises whose tests run with extra environment
//! src/lib.rs        your draft (or the starter); kind `tests`: the implementation
//! tests/visible.rs  the visible tests (`use <crate>::*;`, as the grader compiles them)
//! tests/my_tests.rs kind `tests`: your tests
//! README.md         the statement;  HINTS.md  the hints revealed so far
//! .lockstep.toml    the server, the exercise and the draft version this copy is based on
//! ```

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::curriculum::ExerciseKind;
use crate::grading::deps::PinnedCrate;
use crate::web::workspace::ExerciseWorkspace;

/// The file that marks a downloaded project.
pub const MARKER: &str = ".lockstep.toml";
/// Kind `tests`: where the learner's tests live in the project.
pub const LEARNER_TESTS: &str = "tests/my_tests.rs";
/// Kinds `implement` and `fix`: the learner's library.
pub const LEARNER_LIBRARY: &str = "src/lib.rs";

/// A downloaded exercise on the learner's machine.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Project {
    /// The server it came from.
    pub server: String,
    /// The exercise's id.
    pub exercise: String,
    /// Its kind.
    pub kind: ExerciseKind,
    /// The file handed in, relative to the project.
    pub solution_file: String,
    /// The server's draft version this copy is based on (optimistic locking).
    pub draft_version: i64,
    /// The project's directory (not stored).
    #[serde(skip)]
    pub dir: PathBuf,
}

impl Project {
    /// Writes `workspace` into `dir`. An existing download there is
    /// replaced only with `force`; any other non-empty directory never.
    pub fn write(
        dir: &Path,
        server: &str,
        workspace: &ExerciseWorkspace,
        force: bool,
    ) -> Result<Project> {
        if let Ok(mut entries) = fs::read_dir(dir)
            && entries.next().is_some()
        {
            if !dir.join(MARKER).exists() {
                bail!(
                    "{} exists and is not a downloaded exercise: choose another --dir",
                    dir.display()
                );
            }
            if !force {
                bail!(
                    "{} already holds a download; `--force` replaces its files (your local changes there are lost)",
                    dir.display()
                );
            }
        }
        let solution_file = match workspace.kind {
            ExerciseKind::Tests => LEARNER_TESTS,
            ExerciseKind::Implement | ExerciseKind::Fix => LEARNER_LIBRARY,
            // The server refuses these; an older or newer server might not.
            ExerciseKind::Written | ExerciseKind::Review => {
                bail!("{} is not code: hand it in on the web", workspace.id)
            }
        };
        let project = Project {
            server: server.to_string(),
            exercise: workspace.id.clone(),
            kind: workspace.kind,
            solution_file: solution_file.to_string(),
            draft_version: workspace.draft.version,
            dir: dir.to_path_buf(),
        };
        let mut files: Vec<(&str, String)> = vec![
            ("Cargo.toml", cargo_toml(workspace)),
            ("README.md", readme(server, workspace)),
            ("HINTS.md", hints(workspace)),
            (".gitignore", "/target\n".to_string()),
        ];
        if !workspace.cargo_lock.is_empty() {
            files.push(("Cargo.lock", workspace.cargo_lock.clone()));
        }
        if let Some(build) = build_script(&workspace.cfg) {
            files.push(("build.rs", build));
        }
        if !workspace.env.is_empty() {
            let mut config = String::from(
                "# The environment the grader runs this exercise's tests with.\n[env]\n",
            );
            for (name, value) in &workspace.env {
                let _ = writeln!(config, "{name} = {}", toml_string(value));
            }
            files.push((".cargo/config.toml", config));
        }
        match workspace.kind {
            ExerciseKind::Tests => {
                let implementation = workspace
                    .implementation
                    .clone()
                    .context("the server sent no implementation for a `tests` exercise")?;
                files.push((LEARNER_LIBRARY, implementation));
                files.push((LEARNER_TESTS, workspace.draft.code.clone()));
            }
            ExerciseKind::Implement
            | ExerciseKind::Fix
            | ExerciseKind::Written
            | ExerciseKind::Review => {
                files.push((LEARNER_LIBRARY, workspace.draft.code.clone()));
                if let Some(visible) = &workspace.visible_tests {
                    files.push(("tests/visible.rs", visible.clone()));
                }
            }
        }
        for (name, contents) in files {
            let path = dir.join(name);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
            fs::write(&path, contents)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        project.store()?;
        Ok(project)
    }

    /// The project that `start` is in (or is).
    pub fn find(start: &Path) -> Result<Project> {
        let start = start
            .canonicalize()
            .with_context(|| format!("{} does not exist", start.display()))?;
        let mut dir = if start.is_file() {
            start.parent().map(Path::to_path_buf).unwrap_or_default()
        } else {
            start.clone()
        };
        loop {
            let marker = dir.join(MARKER);
            if marker.is_file() {
                let text = fs::read_to_string(&marker)
                    .with_context(|| format!("cannot read {}", marker.display()))?;
                let mut project: Project = toml::from_str(&text).with_context(|| {
                    format!(
                        "{} is damaged: download the exercise again",
                        marker.display()
                    )
                })?;
                project.dir = dir;
                return Ok(project);
            }
            if !dir.pop() {
                bail!(
                    "{} is not inside a downloaded exercise (no {MARKER} found): run `lockstep learn download EXERCISE` first",
                    start.display()
                );
            }
        }
    }

    /// The solution file's contents.
    pub fn read_solution(&self) -> Result<String> {
        let path = self.dir.join(&self.solution_file);
        let code =
            fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        if code.trim().is_empty() {
            bail!("{} is empty: there is nothing to submit", path.display());
        }
        Ok(code)
    }

    /// Records that the server's draft is now at `version`.
    pub fn remember_draft_version(&mut self, version: i64) -> Result<()> {
        self.draft_version = version;
        self.store()
    }

    fn store(&self) -> Result<()> {
        let path = self.dir.join(MARKER);
        let text = format!(
            "# Written by `lockstep learn`; `lockstep learn submit` reads it.\n{}",
            toml::to_string(self)?
        );
        fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    }
}

/// A TOML basic string.
fn toml_string(value: &str) -> String {
    toml::Value::String(value.to_string()).to_string()
}

/// Whether `code` names the crate `rust_name` (`tokio::`, `use tokio`,
/// `extern crate tokio`), at a word boundary.
fn mentions(code: &str, rust_name: &str) -> bool {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    code.match_indices(rust_name).any(|(at, _)| {
        let before = &code[..at];
        let after = &code[at + rust_name.len()..];
        let whole_word = !before.chars().next_back().is_some_and(is_word)
            && !after.chars().next().is_some_and(is_word);
        let as_crate = after.starts_with("::")
            || before.trim_end().ends_with("use")
            || before.trim_end().ends_with("extern crate");
        whole_word && as_crate
    })
}

/// One `[dependencies]` line for `krate`.
fn dependency_line(krate: &PinnedCrate) -> String {
    let version = toml_string(&format!("={}", krate.version));
    if krate.features.is_empty() && krate.default_features {
        return format!("{} = {version}", krate.name);
    }
    let mut line = format!("{} = {{ version = {version}", krate.name);
    if !krate.default_features {
        line.push_str(", default-features = false");
    }
    if !krate.features.is_empty() {
        let features: Vec<String> = krate.features.iter().map(|f| toml_string(f)).collect();
        let _ = write!(line, ", features = [{}]", features.join(", "));
    }
    line.push_str(" }");
    line
}

/// The manifest: the grader's crate name, edition and flags; the crates the
/// exercise's files use at the grader's exact versions, the rest listed.
fn cargo_toml(workspace: &ExerciseWorkspace) -> String {
    let mut code = workspace.draft.code.clone();
    for file in [&workspace.visible_tests, &workspace.implementation]
        .into_iter()
        .flatten()
    {
        code.push_str(file);
    }
    let (used, unused): (Vec<&PinnedCrate>, Vec<&PinnedCrate>) = workspace
        .crates
        .iter()
        .partition(|krate| mentions(&code, &krate.name.replace('-', "_")));
    let mut out = format!(
        "# Written by `lockstep learn download`: the crate name, edition and crate\n\
         # versions the Lockstep grader compiles this exercise with, so what\n\
         # compiles here compiles there.\n\
         [package]\nname = {}\nversion = \"0.1.0\"\nedition = {}\npublish = false\n\n\
         [lib]\npath = \"src/lib.rs\"\n\n[dependencies]\n",
        toml_string(&workspace.crate_name),
        toml_string(&workspace.edition),
    );
    for krate in &used {
        let _ = writeln!(out, "{}", dependency_line(krate));
    }
    if !unused.is_empty() {
        out.push_str("# Also available on the server (uncomment to use one):\n");
        for krate in &unused {
            let _ = writeln!(out, "# {}", dependency_line(krate));
        }
    }
    let features: Vec<&str> = workspace
        .cfg
        .iter()
        .filter_map(|cfg| cfg.strip_prefix("feature=\"")?.strip_suffix('"'))
        .collect();
    if !features.is_empty() {
        out.push_str(
            "\n# The grader builds with these features on (as Cargo's unification would).\n[features]\n",
        );
        let quoted: Vec<String> = features.iter().map(|f| toml_string(f)).collect();
        let _ = writeln!(out, "default = [{}]", quoted.join(", "));
        for feature in &features {
            let _ = writeln!(out, "{} = []", toml_string(feature));
        }
    }
    out.push_str("\n[lints.rust]\n");
    if !workspace.allow_unsafe {
        out.push_str("unsafe_code = \"forbid\"\n");
    }
    let plain: Vec<&String> = workspace
        .cfg
        .iter()
        .filter(|cfg| !cfg.starts_with("feature="))
        .collect();
    if !plain.is_empty() {
        let checks: Vec<String> = plain
            .iter()
            .map(|cfg| toml_string(&format!("cfg({cfg})")))
            .collect();
        let _ = writeln!(
            out,
            "unexpected_cfgs = {{ level = \"warn\", check-cfg = [{}] }}",
            checks.join(", ")
        );
    }
    // Its own workspace, even when downloaded inside another one.
    out.push_str("\n[workspace]\n");
    out
}

/// `build.rs` setting the exercise's plain `--cfg` flags (e.g. `loom`) on
/// this crate and its tests only, as the grader does — never on the
/// dependencies (tokio built with `--cfg loom` is another tokio).
fn build_script(cfg: &[String]) -> Option<String> {
    let plain: Vec<&String> = cfg.iter().filter(|c| !c.starts_with("feature=")).collect();
    if plain.is_empty() {
        return None;
    }
    let mut out = String::from(
        "//! The `--cfg` flags the Lockstep grader compiles this exercise with.\n\nfn main() {\n",
    );
    for cfg in plain {
        let _ = writeln!(
            out,
            "    println!(\"cargo::rustc-cfg={}\");",
            cfg.replace('"', "\\\"")
        );
    }
    out.push_str("}\n");
    Some(out)
}

fn readme(server: &str, workspace: &ExerciseWorkspace) -> String {
    let solution = match workspace.kind {
        ExerciseKind::Tests => format!(
            "Write your tests in `{LEARNER_TESTS}`; `src/lib.rs` is the implementation they run against (the grader also runs them against buggy copies they must catch)."
        ),
        ExerciseKind::Implement
        | ExerciseKind::Fix
        | ExerciseKind::Written
        | ExerciseKind::Review => format!(
            "Edit `{LEARNER_LIBRARY}`; `tests/visible.rs` holds the visible tests (the server also runs hidden ones)."
        ),
    };
    format!(
        "# {}\n\n{}\n\n---\n\n{solution}\n\n```sh\ncargo test                  # the visible tests, here\nlockstep learn submit       # graded on the server\nlockstep learn hint {}\n```\n\nOn the web: {server}{}\n",
        workspace.title,
        workspace.statement.trim_end(),
        workspace.id,
        workspace.url
    )
}

fn hints(workspace: &ExerciseWorkspace) -> String {
    let mut out = format!("# Hints for {}\n\n", workspace.title);
    if workspace.hints.is_empty() {
        let _ = writeln!(
            out,
            "None revealed yet ({} available): `lockstep learn hint {}` reveals the next one.",
            workspace.hints_total, workspace.id
        );
    }
    for (number, hint) in workspace.hints.iter().enumerate() {
        let _ = writeln!(out, "{}. {hint}\n", number + 1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crates_are_found_by_their_paths_and_uses() {
        assert!(mentions("use tokio::sync::Mutex;", "tokio"));
        assert!(mentions("#[tokio::test]\nasync fn t() {}", "tokio"));
        assert!(mentions("use futures;", "futures"));
        assert!(!mentions("use tokio_stream::StreamExt;", "tokio"));
        assert!(!mentions("let my_tokio::x = 1;", "tokio"));
        assert!(!mentions("// bytes are counted", "bytes"));
        assert!(mentions("use tokio_stream::StreamExt;", "tokio_stream"));
    }

    #[test]
    fn dependencies_are_pinned_exactly() {
        let krate = |features: &[&str], default_features| PinnedCrate {
            name: "proptest".into(),
            version: "1.9.0".into(),
            features: features.iter().map(|f| f.to_string()).collect(),
            default_features,
        };
        assert_eq!(dependency_line(&krate(&[], true)), "proptest = \"=1.9.0\"");
        assert_eq!(
            dependency_line(&krate(&["std"], false)),
            "proptest = { version = \"=1.9.0\", default-features = false, features = [\"std\"] }"
        );
    }

    #[test]
    fn cfg_flags_reach_this_crate_only() {
        assert_eq!(build_script(&["feature=\"x\"".into()]), None);
        let script = build_script(&["loom".into()]).unwrap();
        assert!(script.contains("cargo::rustc-cfg=loom"));
    }
}
