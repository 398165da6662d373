//! Kinds `implement` and `fix`: the learner's library against our tests.
//!
//! Steps: the learner's file compiled alone as the exercise's library; the
//! test crate (the harness's root, `visible.rs` and, when submitting,
//! `hidden.rs`) compiled against it; then one run per set of tests, each
//! in a fresh run root. The visible run shows messages and output. The
//! hidden run is quiet: pass or fail per test and nothing else reaches
//! the learner, and what its code printed is dropped.

use super::super::harness::{self, TestModule};
use super::super::sandbox::{JobFile, Progress, Step, StepReport, paths};
use super::super::verdict::{Status, Verdict};
use super::{Judge, Mode, compile_failure, diagnostics, integrity_flags, read_run};
use crate::curriculum::{Exercise, GivenTests};

const LEARNER_FILE: &str = "src/lib.rs";
const VISIBLE_FILE: &str = "tests/visible.rs";
const HIDDEN_FILE: &str = "tests/hidden.rs";
const TEST_BINARY: &str = "out/tests";

pub fn grade(
    judge: &Judge,
    exercise: &Exercise,
    tests: &GivenTests,
    code: &str,
    mode: Mode,
    progress: Option<&Progress>,
) -> anyhow::Result<(Verdict, Vec<StepReport>)> {
    let reports = judge.run(steps(judge, exercise, tests, code, mode), progress)?;
    let verdict = read(tests, &reports);
    Ok((verdict, reports))
}

/// Compile the learner's library; compile the test crate against it; run
/// the visible tests; when submitting, run the hidden ones.
fn steps(
    judge: &Judge,
    exercise: &Exercise,
    tests: &GivenTests,
    code: &str,
    mode: Mode,
) -> Vec<Step> {
    let crate_name = &exercise.crate_name;
    let lib = format!("out/lib{crate_name}.rlib");
    let mut modules = vec![TestModule {
        name: "visible",
        file: "visible.rs",
        forbid_unsafe: false,
    }];
    let mut files = vec![JobFile {
        path: VISIBLE_FILE.into(),
        contents: tests.visible.clone(),
    }];
    if mode == Mode::Submit {
        modules.push(TestModule {
            name: "hidden",
            file: "hidden.rs",
            forbid_unsafe: false,
        });
        files.push(JobFile {
            path: HIDDEN_FILE.into(),
            contents: tests.hidden.clone(),
        });
    }
    files.push(JobFile {
        path: "tests/main.rs".into(),
        contents: harness::crate_root(&modules),
    });
    let extern_lib = format!("{crate_name}={}/{lib}", paths::JOB);
    let mut compile_tests = judge.test_crate_step(
        exercise,
        "compile-tests",
        files,
        "tests/main.rs",
        &extern_lib,
        TEST_BINARY,
    );
    compile_tests.delete = vec![LEARNER_FILE.into()];
    let mut steps = vec![
        judge.library_step(exercise, "compile", LEARNER_FILE, code, &lib),
        compile_tests,
        judge.test_run_step(
            exercise,
            "test-visible",
            TEST_BINARY,
            harness::arguments(Some("visible::"), false),
        ),
    ];
    if mode == Mode::Submit {
        steps.push(judge.test_run_step(
            exercise,
            "test-hidden",
            TEST_BINARY,
            harness::arguments(Some("hidden::"), true),
        ));
    }
    steps
}

/// The verdict of the reports of [`steps`].
fn read(tests: &GivenTests, steps: &[StepReport]) -> Verdict {
    let (compile_output, diagnostics) = diagnostics::read(&steps[0].stderr, LEARNER_FILE, None);
    if !steps[0].succeeded() {
        let mut verdict = compile_failure(&steps[0], compile_output);
        verdict.diagnostics = diagnostics;
        return verdict;
    }
    if !steps[1].succeeded() {
        let (tests_output, _) =
            diagnostics::read(&steps[1].stderr, VISIBLE_FILE, Some(HIDDEN_FILE));
        let mut verdict = compile_failure(&steps[1], format!("{compile_output}{tests_output}"));
        verdict.message = Some("your code compiles, but the tests do not compile against it: check the names and signatures the statement asks for".into());
        verdict.diagnostics = diagnostics;
        return verdict;
    }

    let mut results = Vec::new();
    let mut error = None;
    let mut integrity = Vec::new();
    for (step, hidden) in steps[2..].iter().zip([false, true]) {
        let source = (!hidden).then_some(tests.visible.as_str());
        let (run_tests, run_error, report) = read_run(step, hidden, str::to_string, source);
        results.extend(run_tests);
        error = error.or(run_error);
        for flag in integrity_flags(step, Some(&report)) {
            if !integrity.contains(&flag) {
                integrity.push(flag);
            }
        }
    }
    let mut verdict = match error {
        Some(error) => error,
        None if results.iter().all(|t| t.status == Status::Pass) => {
            Verdict::new(Status::Pass, None, None)
        }
        None => Verdict::new(Status::Fail, None, None),
    };
    verdict.tests = results;
    verdict.integrity = integrity;
    // What learner code printed in the visible run (the hidden run's is never shown).
    if verdict.reason.is_some() {
        verdict.stderr = steps[2].stderr.clone();
    }
    verdict.compile_output = compile_output;
    verdict.diagnostics = diagnostics;
    verdict
}
