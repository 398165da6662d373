//! Kind `tests`: the learner writes the tests; they must pass against our
//! implementation and fail against every mutant (a copy with one bug).
//!
//! The runs must be indistinguishable from inside, or a test could pass
//! when it sees the real implementation and fail otherwise without testing
//! anything. Every run gets the same program path, arguments and
//! environment, a fresh root and scratch directory (no marker file
//! survives), and a binary it cannot read; the real implementation runs
//! twice, and all runs go in a random order, so "the first run" or "every
//! other run" says nothing either.

use super::super::harness::{self, TestModule};
use super::super::sandbox::{JobFile, Progress, Step, StepReport, paths};
use super::super::verdict::{Status, TestResult, Verdict};
use super::{Judge, compile_failure, diagnostics, integrity_flags, read_run};
use crate::curriculum::{Exercise, LearnerTests};

const LEARNER_FILE: &str = "src/tests.rs";
/// Runs of the real implementation.
const IMPLEMENTATION_RUNS: usize = 2;

pub fn grade(
    judge: &Judge,
    exercise: &Exercise,
    work: &LearnerTests,
    code: &str,
    progress: Option<&Progress>,
) -> anyhow::Result<(Verdict, Vec<StepReport>)> {
    let plan = Plan::new(work);
    let reports = judge.run(plan.steps(judge, exercise, code), progress)?;
    let verdict = plan.read(work, &reports)?;
    Ok((verdict, reports))
}

/// The libraries the learner's tests run against, and the order of the runs.
struct Plan {
    /// `impl`, then `mutant-<name>` for each mutant, with their sources.
    libraries: Vec<(String, String)>,
    /// Which library each run tests (an index into `libraries`), in an
    /// order the learner cannot predict.
    runs: Vec<usize>,
}

/// The reports of a job, by what each step did.
struct Reports<'a> {
    /// Compiling each library.
    libraries: &'a [StepReport],
    /// Compiling the learner's tests against each library (the first
    /// against the real implementation).
    test_crates: &'a [StepReport],
    /// Each run, with the library it tested.
    runs: Vec<(usize, &'a StepReport)>,
}

impl Plan {
    fn new(work: &LearnerTests) -> Self {
        let mut libraries = vec![("impl".to_string(), work.implementation.clone())];
        libraries.extend(
            work.mutants
                .iter()
                .map(|m| (format!("mutant-{}", m.name), m.code.clone())),
        );
        let mut runs: Vec<usize> = std::iter::repeat_n(0, IMPLEMENTATION_RUNS)
            .chain(1..libraries.len())
            .collect();
        shuffle(&mut runs);
        Self { libraries, runs }
    }

    /// Each library compiled; the learner's file compiled against each
    /// (it is written by the first of those steps, which deletes the
    /// libraries' sources); then the runs.
    fn steps(&self, judge: &Judge, exercise: &Exercise, code: &str) -> Vec<Step> {
        let crate_name = &exercise.crate_name;
        let rlib = |label: &str| format!("out/{label}/lib{crate_name}.rlib");
        let mut steps: Vec<Step> = self
            .libraries
            .iter()
            .map(|(label, source)| {
                judge.library_step(
                    exercise,
                    "compile-impl",
                    &format!("lib/{label}.rs"),
                    source,
                    &rlib(label),
                )
            })
            .collect();
        let root = harness::crate_root(&[TestModule {
            name: "tests",
            file: "tests.rs",
            forbid_unsafe: !exercise.allow_unsafe,
        }]);
        for (index, (label, _)) in self.libraries.iter().enumerate() {
            let extern_lib = format!("{crate_name}={}/{}", paths::JOB, rlib(label));
            let first = index == 0;
            let files = if first {
                vec![
                    JobFile {
                        path: LEARNER_FILE.into(),
                        contents: code.into(),
                    },
                    JobFile {
                        path: "src/main.rs".into(),
                        contents: root.clone(),
                    },
                ]
            } else {
                vec![]
            };
            let name = if first { "compile" } else { "compile-tests" };
            let mut step = judge.test_crate_step(
                exercise,
                name,
                files,
                "src/main.rs",
                &extern_lib,
                &format!("out/tests-{label}"),
            );
            if first {
                step.delete = self
                    .libraries
                    .iter()
                    .map(|(l, _)| format!("lib/{l}.rs"))
                    .collect();
            }
            steps.push(step);
        }
        for &library in &self.runs {
            let binary = format!("out/tests-{}", self.libraries[library].0);
            steps.push(judge.test_run_step(
                exercise,
                "test",
                &binary,
                harness::arguments(None, false),
            ));
        }
        steps
    }

    /// Names the reports of a job built by [`Plan::steps`].
    fn reports<'a>(&self, reports: &'a [StepReport]) -> Reports<'a> {
        let n = self.libraries.len();
        Reports {
            libraries: &reports[..n],
            test_crates: &reports[n..2 * n],
            runs: self.runs.iter().copied().zip(&reports[2 * n..]).collect(),
        }
    }

    fn read(&self, work: &LearnerTests, reports: &[StepReport]) -> anyhow::Result<Verdict> {
        let reports = self.reports(reports);
        if let Some(failed) = reports.libraries.iter().find(|s| !s.succeeded()) {
            anyhow::bail!(
                "the exercise's own implementation does not compile: {}",
                failed.stderr
            );
        }
        let (compile_output, diagnostics) =
            diagnostics::read(&reports.test_crates[0].stderr, LEARNER_FILE, None);
        if let Some(failed) = reports.test_crates.iter().find(|s| !s.succeeded()) {
            let mut verdict = compile_failure(failed, compile_output);
            verdict.diagnostics = diagnostics;
            return Ok(verdict);
        }
        let mut verdict = judge_runs(work, &reports.runs);
        verdict.compile_output = compile_output;
        verdict.diagnostics = diagnostics;
        Ok(verdict)
    }
}

/// The verdict of the runs: the learner's tests as they ran on the real
/// implementation, then one entry per mutant, caught or not.
fn judge_runs(work: &LearnerTests, runs: &[(usize, &StepReport)]) -> Verdict {
    let mut integrity = Vec::new();
    for (_, step) in runs {
        let report = harness::Report::read(&step.results);
        for flag in integrity_flags(step, Some(&report)) {
            if !integrity.contains(&flag) {
                integrity.push(flag);
            }
        }
    }
    let display = |name: &str| name.strip_prefix("tests::").unwrap_or(name).to_string();
    let mut implementation_runs = runs.iter().filter(|(library, _)| *library == 0);
    let (_, first) = implementation_runs.next().expect("the implementation runs");
    let (tests, error, report) = read_run(first, false, display, None);
    if let Some(mut error) = error {
        error.tests = tests;
        error.integrity = integrity;
        return error;
    }
    let planned = report.planned.len();
    let agrees = implementation_runs
        .all(|(_, step)| harness::Report::read(&step.results).all_passed() == report.all_passed());
    let passes_on_impl = report.all_passed() && planned > 0 && agrees;

    let mut verdict = Verdict::new(Status::Fail, None, None);
    verdict.tests = tests;
    let mut caught = 0;
    for (index, mutant) in work.mutants.iter().enumerate() {
        let run = runs
            .iter()
            .find(|(library, _)| *library == index + 1)
            .map(|(_, step)| *step)
            .expect("every mutant runs");
        // Any failing test, crash or hang means the mutant was caught.
        let is_caught = !harness::Report::read(&run.results).all_passed();
        caught += usize::from(is_caught);
        verdict.tests.push(TestResult {
            name: format!("catches mutant: {}", mutant.description),
            status: if is_caught {
                Status::Pass
            } else {
                Status::Fail
            },
            message: (!is_caught).then(|| {
                format!(
                    "every one of your tests passes against this buggy version: {}",
                    mutant.description
                )
            }),
            output: None,
            hidden: false,
            test_code: None,
        });
    }
    let mutants = work.mutants.len();
    if passes_on_impl && caught == mutants {
        verdict.status = Status::Pass;
    }
    // The tests kind keeps a sentence on pass and fail as well: what to do
    // next is not in any single test's result.
    verdict.message = Some(if planned == 0 {
        "write at least one #[test] or #[tokio::test]".into()
    } else if !agrees {
        "your tests gave different results in two runs against the correct implementation: make them deterministic".into()
    } else if !passes_on_impl {
        "your tests must all pass against the correct implementation".into()
    } else if caught == mutants {
        format!("your tests pass on the correct implementation and catch all {mutants} bugs")
    } else {
        format!(
            "your tests pass on the correct implementation but catch only {caught} of {mutants} bugs"
        )
    });
    verdict.integrity = integrity;
    verdict
}

/// Fisher–Yates with the operating system's randomness.
fn shuffle(items: &mut [usize]) {
    for i in (1..items.len()).rev() {
        let mut bytes = [0u8; 8];
        if getrandom::fill(&mut bytes).is_err() {
            return;
        }
        let j = (u64::from_le_bytes(bytes) % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}
