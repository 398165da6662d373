//! rustc command lines: every compile of a job is a direct `rustc` against
//! the prepared dependency cache (no cargo, no lock, nothing to write but
//! the job's own `out/`).

use super::super::deps::Manifest;
use super::super::sandbox::paths;
use crate::curriculum::Exercise;

/// Builds rustc command lines for one dependency cache.
#[derive(Debug, Clone)]
pub struct Rustc {
    /// `name=/deps/lib….rlib` for each crate learner code may use.
    externs: Vec<String>,
}

impl Rustc {
    pub fn new(manifest: &Manifest) -> Self {
        let externs = manifest
            .externs
            .iter()
            .map(|(name, file)| format!("{name}={}/{file}", paths::DEPS))
            .collect();
        Self { externs }
    }

    /// rustc with the shared flags and `args`.
    pub fn command(&self, args: &[&str]) -> Vec<String> {
        let mut argv = vec![
            format!("{}/bin/rustc", paths::TOOLCHAIN),
            "--edition".into(),
            super::EDITION.into(),
            "--error-format".into(),
            "json".into(),
            "-C".into(),
            "debuginfo=0".into(),
            // The prebuilt standard library carries debug info: linked in, it
            // made a test binary 8.7 MB instead of 2.9 MB, all of it written,
            // sent back and cached for nothing (panic locations do not need it).
            "-C".into(),
            "strip=debuginfo".into(),
            "-L".into(),
            format!("dependency={}", paths::DEPS),
        ];
        for name_and_path in &self.externs {
            argv.push("--extern".into());
            argv.push(name_and_path.clone());
        }
        argv.extend(args.iter().map(|a| a.to_string()));
        argv
    }

    /// The exercise's library crate from `source` into `out`.
    pub fn learner_library(&self, exercise: &Exercise, source: &str, out: &str) -> Vec<String> {
        let mut argv = self.command(&[
            "--crate-type",
            "lib",
            "--crate-name",
            &exercise.crate_name,
            source,
            "-o",
            out,
        ]);
        if !exercise.allow_unsafe {
            argv.extend(["-F".into(), "unsafe_code".into()]);
        }
        argv.extend(cfgs(exercise));
        argv
    }

    /// A test crate rooted at `root` against `extern_lib` into `out`.
    pub fn test_crate(
        &self,
        exercise: &Exercise,
        root: &str,
        extern_lib: &str,
        out: &str,
    ) -> Vec<String> {
        let mut argv = self.command(&[
            "--test",
            "--crate-name",
            "exercise_tests",
            root,
            "-o",
            out,
            "--extern",
            extern_lib,
            "-A",
            "warnings",
        ]);
        argv.extend(cfgs(exercise));
        argv
    }
}

fn cfgs(exercise: &Exercise) -> Vec<String> {
    exercise
        .cfg
        .iter()
        .flat_map(|cfg| ["--cfg".to_string(), cfg.clone()])
        .collect()
}
