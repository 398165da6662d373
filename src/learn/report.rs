//! A verdict printed the way `cargo test` prints a run, so a learner reads
//! it as they read their own: compiler output first (its paths those of the
//! downloaded project), then `test NAME ... ok|FAILED` per test, the
//! failures with their messages, and `test result:`. Hidden tests show
//! their names and results only, as on the web.

use std::io::Write;

use crate::grading::verdict::{Status, Verdict};

use super::project::{LEARNER_TESTS, Project};

/// The learner's file as the grader names it in compiler output, for kind
/// `tests` (kinds `implement`/`fix` use `src/lib.rs` and
/// `tests/visible.rs` on both sides already).
const GRADER_TESTS_FILE: &str = "src/tests.rs";

/// Prints `verdict` to `out`; whether it is a pass.
pub fn print(verdict: &Verdict, project: &Project, out: &mut impl Write) -> std::io::Result<bool> {
    let compile_output = match project.kind {
        crate::curriculum::ExerciseKind::Tests => verdict
            .compile_output
            .replace(GRADER_TESTS_FILE, LEARNER_TESTS),
        _ => verdict.compile_output.clone(),
    };
    if !compile_output.trim().is_empty() {
        writeln!(out, "{}", compile_output.trim_end())?;
        writeln!(out)?;
    }
    if !verdict.tests.is_empty() {
        writeln!(
            out,
            "running {} test{}",
            verdict.tests.len(),
            if verdict.tests.len() == 1 { "" } else { "s" }
        )?;
        for test in &verdict.tests {
            let word = match test.status {
                Status::Pass => "ok",
                Status::Fail => "FAILED",
                Status::Error => "ERROR",
            };
            let hidden = if test.hidden { " (hidden)" } else { "" };
            writeln!(out, "test {}{hidden} ... {word}", test.name)?;
        }
        let failed: Vec<_> = verdict
            .tests
            .iter()
            .filter(|t| t.status != Status::Pass)
            .collect();
        let explained: Vec<_> = failed
            .iter()
            .filter(|t| !t.hidden && (t.message.is_some() || t.output.is_some()))
            .collect();
        if !explained.is_empty() {
            writeln!(out, "\nfailures:")?;
            for test in &explained {
                writeln!(out, "\n---- {} ----", test.name)?;
                if let Some(output) = test.output.as_deref().filter(|o| !o.trim().is_empty()) {
                    writeln!(out, "{}", output.trim_end())?;
                }
                if let Some(message) = &test.message {
                    writeln!(out, "{}", message.trim_end())?;
                }
            }
        }
        if !failed.is_empty() {
            writeln!(out, "\nfailures:")?;
            for test in &failed {
                let hidden = if test.hidden {
                    " (hidden: its code and message are not shown)"
                } else {
                    ""
                };
                writeln!(out, "    {}{hidden}", test.name)?;
            }
        }
        let passed = verdict.tests.len() - failed.len();
        writeln!(
            out,
            "\ntest result: {}. {passed} passed; {} failed",
            if verdict.status == Status::Pass {
                "ok"
            } else {
                "FAILED"
            },
            failed.len()
        )?;
    }
    if verdict.status != Status::Pass {
        if !verdict.stderr.trim().is_empty() {
            writeln!(out, "\nstderr:\n{}", verdict.stderr.trim_end())?;
        }
        if let Some(message) = &verdict.message {
            writeln!(out, "\nerror: {message}")?;
        } else if let Some(reason) = verdict.reason {
            writeln!(
                out,
                "\nerror: {}",
                serde_json::to_string(&reason)
                    .unwrap_or_default()
                    .trim_matches('"')
                    .replace('_', " ")
            )?;
        }
    }
    Ok(verdict.status == Status::Pass)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curriculum::ExerciseKind;
    use crate::grading::verdict::TestResult;

    fn project(kind: ExerciseKind) -> Project {
        Project {
            server: "https://x".into(),
            exercise: "e".into(),
            kind,
            solution_file: "src/lib.rs".into(),
            draft_version: 0,
            dir: ".".into(),
        }
    }

    fn test(name: &str, status: Status, hidden: bool, message: Option<&str>) -> TestResult {
        TestResult {
            name: name.into(),
            status,
            message: message.map(str::to_string),
            output: None,
            hidden,
            test_code: None,
        }
    }

    #[test]
    fn a_failure_prints_like_cargo_test_and_hides_hidden_tests() {
        let mut verdict = Verdict::new(Status::Fail, None, None);
        verdict.tests = vec![
            test("visible::adds", Status::Pass, false, None),
            test(
                "visible::carries",
                Status::Fail,
                false,
                Some("assertion `left == right` failed\n  left: 1\n right: 2"),
            ),
            test("hidden::overflow", Status::Fail, true, None),
        ];
        let mut out = Vec::new();
        let passed = print(&verdict, &project(ExerciseKind::Implement), &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(!passed);
        assert!(out.contains("running 3 tests\n"), "{out}");
        assert!(out.contains("test visible::adds ... ok\n"), "{out}");
        assert!(out.contains("test visible::carries ... FAILED\n"), "{out}");
        assert!(
            out.contains("---- visible::carries ----\nassertion `left == right` failed"),
            "{out}"
        );
        assert!(
            out.contains("test hidden::overflow (hidden) ... FAILED\n"),
            "{out}"
        );
        assert!(!out.contains("---- hidden::overflow"), "{out}");
        assert!(
            out.contains("test result: FAILED. 1 passed; 2 failed"),
            "{out}"
        );
    }

    #[test]
    fn compiler_output_names_the_projects_files() {
        let mut verdict = Verdict::new(Status::Error, None, None);
        verdict.compile_output =
            "error[E0425]: cannot find value `x`\n --> src/tests.rs:3:5\n".into();
        let mut out = Vec::new();
        print(&verdict, &project(ExerciseKind::Tests), &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("--> tests/my_tests.rs:3:5"), "{out}");
    }
}
