//! The trusted test harness: the root of every graded test crate, and what
//! it reports.
//!
//! libtest reports results on stdout, which the code under test can print
//! to as well; a learner's code that writes libtest's JSON and exits would
//! be graded "pass". So the judge compiles tests under its own runner (the
//! `lockstep-harness` crate in `grader/deps/harness`, prebuilt with the
//! dependency cache, named by the crate root's `#![test_runner]`), which
//! runs every test and reports each one on a pipe that only the sandbox
//! opened, at [`paths::RESULTS_FD`](super::sandbox::paths::RESULTS_FD).
//! Stdout is only ever shown to the learner, never believed. See the threat
//! model in [`super`].

use std::collections::HashMap;

use serde::Deserialize;

/// The first lines of every test crate's root: Lockstep's runner instead
/// of libtest's (`custom_test_frameworks` is why the compile of a test crate
/// needs `RUSTC_BOOTSTRAP`).
const ROOT: &str = "// Lockstep's test crate: the tests below run under lockstep_harness::run.\n\
#![feature(custom_test_frameworks)]\n\
#![test_runner(lockstep_harness::run)]\n";

/// A file of tests, made a module of the test crate.
pub struct TestModule<'a> {
    /// Module name: the prefix of its tests' names (`visible`, `hidden`).
    pub name: &'a str,
    /// Its file, relative to the crate root's directory.
    pub file: &'a str,
    /// Written by the learner: `unsafe` is forbidden in it.
    pub forbid_unsafe: bool,
}

/// The root of a test crate holding `modules`.
pub fn crate_root(modules: &[TestModule]) -> String {
    let mut root = String::from(ROOT);
    for module in modules {
        root.push_str(&format!("\n#[path = {:?}]\n", module.file));
        if module.forbid_unsafe {
            root.push_str("#[forbid(unsafe_code)]\n");
        }
        root.push_str(&format!("mod {};\n", module.name));
    }
    root
}

/// The runner's arguments for a run of the tests whose names start with
/// `prefix` (all tests: None); `quiet` leaves failure messages and output
/// out of the report (hidden tests).
pub fn arguments(prefix: Option<&str>, quiet: bool) -> Vec<String> {
    let mut args = Vec::new();
    if let Some(prefix) = prefix {
        args.extend(["--only".to_string(), prefix.to_string()]);
    }
    if quiet {
        args.push("--quiet".into());
    }
    args
}

/// One line of the runner's report.
#[derive(Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Event {
    /// A test it will run, in file order (all come before any result).
    Test { name: String, line: u32 },
    /// A test finished.
    Result {
        name: String,
        outcome: Outcome,
        message: String,
        output: String,
    },
    /// Every selected test finished.
    Done,
}

/// How a test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It returned (or panicked, if it should).
    Pass,
    /// It panicked or returned an error.
    Fail,
}

/// A finished test's result as the runner saw it.
#[derive(Debug, Clone)]
pub struct Finished {
    /// Pass or fail.
    pub outcome: Outcome,
    /// The panic message or returned error.
    pub message: String,
    /// What the test printed (and the panic report), captured per test.
    pub output: String,
}

/// What one run's runner reported.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The tests the run was to run, in file order, with the line of each.
    pub planned: Vec<(String, u32)>,
    /// Results by test name.
    pub finished: HashMap<String, Finished>,
    /// Whether the runner reached its end: false when the process exited,
    /// crashed or was killed in the middle.
    pub complete: bool,
}

impl Report {
    /// Reads the runner's report (the results pipe's contents).
    pub fn read(text: &str) -> Self {
        let mut report = Report::default();
        for line in text.lines() {
            match serde_json::from_str::<Event>(line) {
                Ok(Event::Test { name, line }) => report.planned.push((name, line)),
                Ok(Event::Result {
                    name,
                    outcome,
                    message,
                    output,
                }) => {
                    report.finished.insert(
                        name,
                        Finished {
                            outcome,
                            message,
                            output,
                        },
                    );
                }
                Ok(Event::Done) => report.complete = true,
                // Only the runner writes here; a cut-off last line means the
                // process died while writing it.
                Err(_) => {}
            }
        }
        report
    }

    /// Whether every planned test passed and the run completed.
    pub fn all_passed(&self) -> bool {
        self.complete
            && self.planned.iter().all(|(name, _)| {
                self.finished
                    .get(name)
                    .is_some_and(|f| f.outcome == Outcome::Pass)
            })
    }

    /// Planned tests with no result.
    pub fn unfinished(&self) -> usize {
        self.planned
            .iter()
            .filter(|(name, _)| !self.finished.contains_key(name))
            .count()
    }
}

/// The body of the test function declared on `line` (1-based) of `source`,
/// dedented: Exercism's `test_code`. None if it cannot be found.
pub fn test_code(source: &str, line: u32) -> Option<String> {
    let start: usize = source
        .split_inclusive('\n')
        .take(line.saturating_sub(1) as usize)
        .map(str::len)
        .sum();
    let rest = source.get(start..)?;
    let open = rest.find('{')?;
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (index, c) in rest[open..].char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(dedent(rest[open + 1..open + index].trim_matches('\n')));
                }
            }
            _ => {}
        }
    }
    None
}

fn dedent(text: &str) -> String {
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    text.lines()
        .map(|l| l.get(indent..).unwrap_or(l.trim_start()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_without_its_end_is_incomplete() {
        let text = r#"{"event":"test","name":"visible::a","line":3}
{"event":"test","name":"visible::b","line":7}
{"event":"result","name":"visible::a","outcome":"pass","message":"","output":""}"#;
        let report = Report::read(text);
        assert_eq!(report.planned.len(), 2);
        assert!(!report.complete);
        assert!(!report.all_passed());
        assert_eq!(report.unfinished(), 1);
    }

    #[test]
    fn test_code_is_the_function_body() {
        let source = "use x::*;\n\n#[test]\nfn adds() {\n    let s = \"{\";\n    assert_eq!(add(1, 2), 3);\n}\n";
        assert_eq!(
            test_code(source, 4).as_deref(),
            Some("let s = \"{\";\nassert_eq!(add(1, 2), 3);")
        );
    }

    #[test]
    fn learner_modules_forbid_unsafe() {
        let root = crate_root(&[TestModule {
            name: "tests",
            file: "learner.rs",
            forbid_unsafe: true,
        }]);
        assert!(root.contains("#[path = \"learner.rs\"]\n#[forbid(unsafe_code)]\nmod tests;"));
        assert!(root.contains("#![test_runner(lockstep_harness::run)]"));
    }
}
