//! Turning code into a verdict: which steps to run in the sandbox for a
//! program, an exercise, or a learner's own tests, and how to read the
//! results.
//!
//! Compilation is split so the learner's code never compiles next to test
//! sources it should not see: first the learner's file alone (as a library,
//! or a binary for programs), then the tests against the compiled rlib, with
//! the hidden test sources deleted before anything runs.

use std::collections::HashMap;
use std::time::Instant;

use serde::Deserialize;

use super::deps::Manifest;
use super::sandbox::{Exit, JobFile, Limits, Progress, Sandbox, Step, StepReport, paths};
use super::verdict::{Diagnostic, Durations, Reason, Status, TestResult, Verdict};
use crate::curriculum::{Exercise, ExerciseKind};

/// The operator's ceiling on per-exercise limits.
#[derive(Debug, Clone, Copy)]
pub struct Ceiling {
    /// Longest wall time an exercise may ask for, in seconds.
    pub run_seconds: u64,
    /// Most memory an exercise may ask for, in MiB.
    pub run_memory_mb: u64,
}

impl Default for Ceiling {
    fn default() -> Self {
        Self {
            run_seconds: 30,
            run_memory_mb: 2048,
        }
    }
}

pub use super::job::Mode;

/// Compiles and runs code in the sandbox.
#[derive(Debug, Clone)]
pub struct Judge {
    sandbox: Sandbox,
    externs: Vec<String>,
    ceiling: Ceiling,
}

/// The learner-facing phase of a step: `compiling` or `running`.
pub fn phase_of(step: &str) -> &'static str {
    if step.starts_with("compile") {
        "compiling"
    } else {
        "running"
    }
}

/// Size of each job's `/job`.
const SCRATCH_MB: u64 = 256;
/// Longest message or output kept per test.
const MAX_TEST_TEXT: usize = 4000;

impl Judge {
    /// A judge using the prepared dependency cache and the given helper binary.
    pub fn new(manifest: &Manifest, helper: std::path::PathBuf, ceiling: Ceiling) -> Self {
        let externs = manifest
            .externs
            .iter()
            .map(|(name, file)| format!("{name}={}/{file}", paths::DEPS))
            .collect();
        Self {
            sandbox: manifest.sandbox(helper),
            externs,
            ceiling,
        }
    }

    /// A judge for `settings`, building the dependency cache first if it is
    /// missing or stale (on a blocking thread: it may run cargo for a while).
    pub async fn prepare(
        settings: &crate::config::Settings,
        helper: std::path::PathBuf,
    ) -> anyhow::Result<Self> {
        let workspace = settings.grader_deps.clone();
        let data_dir = settings.data_dir.clone();
        let manifest =
            tokio::task::spawn_blocking(move || super::deps::prepare(&workspace, &data_dir))
                .await??;
        Ok(Self::new(&manifest, helper, settings.ceiling()))
    }

    /// Compiles `code` as a program and runs it. Blocking.
    pub fn run_program(&self, code: &str, progress: Option<&Progress>) -> Verdict {
        let started = Instant::now();
        let compile = Step {
            name: "compile".into(),
            write: vec![JobFile {
                path: "src/main.rs".into(),
                contents: code.into(),
            }],
            delete: vec![],
            argv: self.rustc(&[
                "--crate-type",
                "bin",
                "--crate-name",
                "main",
                "-F",
                "unsafe_code",
                "src/main.rs",
                "-o",
                "out/main",
            ]),
            env: vec![],
            limits: Limits::COMPILE,
            must_succeed: true,
        };
        let run = Step {
            name: "run".into(),
            write: vec![],
            delete: vec![],
            argv: vec![format!("{}/out/main", paths::JOB)],
            env: vec![("RUST_BACKTRACE".into(), "0".into())],
            limits: Limits::RUN,
            must_succeed: false,
        };
        let report = match self.sandbox.run(vec![compile, run], SCRATCH_MB, progress) {
            Ok(report) => report,
            Err(error) => return internal(error, started),
        };
        let [compile, run] = &report.steps[..] else {
            return internal(anyhow::anyhow!("unexpected report shape"), started);
        };
        let (compile_output, diagnostics) = read_diagnostics(&compile.stderr, "src/main.rs", None);
        let mut verdict = if !compile.succeeded() {
            compile_failure(compile, compile_output.clone())
        } else if let Some(error) = limit_error(run) {
            error
        } else {
            match run.exit {
                Exit::Code(0) => Verdict::new(Status::Pass, None, None),
                Exit::Code(101) => {
                    Verdict::new(Status::Fail, None, "the program panicked".to_string())
                }
                Exit::Code(code) => Verdict::new(
                    Status::Fail,
                    None,
                    format!("the program exited with code {code}"),
                ),
                _ => Verdict::new(
                    Status::Error,
                    Some(Reason::RuntimeError),
                    "the program crashed".to_string(),
                ),
            }
        };
        verdict.stdout = run.stdout.clone();
        verdict.stderr = run.stderr.clone();
        verdict.compile_output = compile_output;
        verdict.diagnostics = diagnostics;
        verdict.duration_ms = durations(&report.steps, started);
        verdict
    }

    /// Grades `code` for `exercise`. Blocking.
    pub fn grade(
        &self,
        exercise: &Exercise,
        code: &str,
        mode: Mode,
        progress: Option<&Progress>,
    ) -> Verdict {
        let started = Instant::now();
        let result = match exercise.kind {
            ExerciseKind::Implement | ExerciseKind::Fix => {
                self.grade_against_tests(exercise, code, mode, progress)
            }
            ExerciseKind::Tests => self.grade_learner_tests(exercise, code, progress),
        };
        match result {
            Ok((mut verdict, steps)) => {
                verdict.duration_ms = durations(&steps, started);
                verdict
            }
            Err(error) => internal(error, started),
        }
    }

    fn grade_against_tests(
        &self,
        exercise: &Exercise,
        code: &str,
        mode: Mode,
        progress: Option<&Progress>,
    ) -> anyhow::Result<(Verdict, Vec<StepReport>)> {
        let crate_name = &exercise.crate_name;
        let lib = format!("out/lib{crate_name}.rlib");
        let mut root = String::from("#[path = \"visible.rs\"]\nmod visible;\n");
        let mut test_files = vec![JobFile {
            path: "tests/visible.rs".into(),
            contents: exercise.visible_tests.clone(),
        }];
        if mode == Mode::Submit {
            root.push_str("#[path = \"hidden.rs\"]\nmod hidden;\n");
            test_files.push(JobFile {
                path: "tests/hidden.rs".into(),
                contents: exercise.hidden_tests.clone(),
            });
        }
        test_files.push(JobFile {
            path: "tests/main.rs".into(),
            contents: root,
        });
        let extern_lib = format!("{crate_name}={}/{lib}", paths::JOB);
        let steps = vec![
            self.library_step(exercise, "compile", "src/lib.rs", code, &lib),
            Step {
                name: "compile-tests".into(),
                write: test_files,
                delete: vec!["src/lib.rs".into()],
                argv: self.test_rustc(exercise, "tests/main.rs", &extern_lib, "out/tests"),
                env: vec![],
                limits: Limits::COMPILE,
                must_succeed: true,
            },
            self.list_step("out/tests", exercise),
            self.test_step("test", "out/tests", exercise),
        ];
        let report = self.sandbox.run(steps, SCRATCH_MB, progress)?;
        let steps = report.steps;
        let (compile_output, diagnostics) = read_diagnostics(&steps[0].stderr, "src/lib.rs", None);
        if !steps[0].succeeded() {
            let mut verdict = compile_failure(&steps[0], compile_output);
            verdict.diagnostics = diagnostics;
            return Ok((verdict, steps));
        }
        if !steps[1].succeeded() {
            let (tests_output, _) = read_diagnostics(
                &steps[1].stderr,
                "tests/visible.rs",
                Some("tests/hidden.rs"),
            );
            let mut verdict = compile_failure(&steps[1], format!("{compile_output}{tests_output}"));
            verdict.message = Some("your code compiles, but the tests do not compile against it: check the names and signatures the statement asks for".into());
            verdict.diagnostics = diagnostics;
            return Ok((verdict, steps));
        }
        let expected = parse_test_list(&steps[2].stdout);
        let mut verdict = read_test_run(&steps[3], &expected, |name| name.starts_with("hidden::"));
        verdict.compile_output = compile_output;
        verdict.diagnostics = diagnostics;
        Ok((verdict, steps))
    }

    /// Kind `tests`: the learner's tests must pass against the implementation
    /// and fail against every mutant.
    fn grade_learner_tests(
        &self,
        exercise: &Exercise,
        code: &str,
        progress: Option<&Progress>,
    ) -> anyhow::Result<(Verdict, Vec<StepReport>)> {
        let crate_name = &exercise.crate_name;
        let mut libraries = vec![("impl".to_string(), exercise.implementation.clone())];
        libraries.extend(
            exercise
                .mutants
                .iter()
                .map(|m| (format!("mutant-{}", m.name), m.code.clone())),
        );
        let mut steps = Vec::new();
        for (label, source) in &libraries {
            let source_path = format!("lib/{label}.rs");
            let out = format!("out/{label}/lib{crate_name}.rlib");
            steps.push(self.library_step(exercise, "compile-impl", &source_path, source, &out));
        }
        // The learner's file is compiled once per library it is tested against.
        for (index, (label, _)) in libraries.iter().enumerate() {
            let extern_lib = format!(
                "{crate_name}={}/out/{label}/lib{crate_name}.rlib",
                paths::JOB
            );
            let mut argv = self.test_rustc(
                exercise,
                "src/tests.rs",
                &extern_lib,
                &format!("out/tests-{label}"),
            );
            if !exercise.allow_unsafe {
                argv.extend(["-F".into(), "unsafe_code".into()]);
            }
            steps.push(Step {
                name: if index == 0 {
                    "compile".into()
                } else {
                    "compile-tests".into()
                },
                write: if index == 0 {
                    vec![JobFile {
                        path: "src/tests.rs".into(),
                        contents: code.into(),
                    }]
                } else {
                    vec![]
                },
                delete: if index == 0 {
                    libraries
                        .iter()
                        .map(|(l, _)| format!("lib/{l}.rs"))
                        .collect()
                } else {
                    vec![]
                },
                argv,
                env: vec![],
                limits: Limits::COMPILE,
                must_succeed: true,
            });
        }
        steps.push(self.list_step("out/tests-impl", exercise));
        for (label, _) in &libraries {
            steps.push(self.test_step(label, &format!("out/tests-{label}"), exercise));
        }
        let report = self.sandbox.run(steps, SCRATCH_MB, progress)?;
        let steps = report.steps;
        let n = libraries.len();
        if let Some(failed) = steps[..n].iter().find(|s| !s.succeeded()) {
            anyhow::bail!(
                "the exercise's own implementation does not compile: {}",
                failed.stderr
            );
        }
        let (compile_output, diagnostics) =
            read_diagnostics(&steps[n].stderr, "src/tests.rs", None);
        if let Some(failed) = steps[n..2 * n].iter().find(|s| !s.succeeded()) {
            let mut verdict = compile_failure(failed, compile_output);
            verdict.diagnostics = diagnostics;
            return Ok((verdict, steps));
        }
        let expected = parse_test_list(&steps[2 * n].stdout);
        let against_impl = &steps[2 * n + 1];
        let mut verdict = read_test_run(against_impl, &expected, |_| false);
        verdict.compile_output = compile_output;
        verdict.diagnostics = diagnostics;
        if verdict.status == Status::Error {
            return Ok((verdict, steps));
        }
        let passes_on_impl = verdict.status == Status::Pass && !expected.is_empty();
        let mut caught_all = true;
        for (mutant, run) in exercise.mutants.iter().zip(&steps[2 * n + 2..]) {
            // Any failing test (or a crash or hang) means the mutant was caught.
            let caught = !run.succeeded();
            caught_all &= caught;
            verdict.tests.push(TestResult {
                name: format!("catches mutant: {}", mutant.description),
                status: if caught { Status::Pass } else { Status::Fail },
                message: (!caught).then(|| {
                    format!(
                        "every one of your tests passes against this buggy version: {}",
                        mutant.description
                    )
                }),
                output: None,
                hidden: false,
            });
        }
        verdict.status = if passes_on_impl && caught_all {
            Status::Pass
        } else {
            Status::Fail
        };
        let mutants = exercise.mutants.len();
        let caught = verdict
            .tests
            .iter()
            .filter(|t| t.name.starts_with("catches mutant") && t.status == Status::Pass)
            .count();
        verdict.message = Some(if expected.is_empty() {
            "write at least one #[test] or #[tokio::test]".into()
        } else if !passes_on_impl {
            "your tests must all pass against the correct implementation".into()
        } else if caught_all {
            format!("your tests pass on the correct implementation and catch all {mutants} bugs")
        } else {
            format!(
                "your tests pass on the correct implementation but catch only {caught} of {mutants} bugs"
            )
        });
        Ok((verdict, steps))
    }

    /// Writes `source` to `path` and compiles it alone as the exercise's
    /// library crate into `out` (learner code, implementations and mutants alike).
    fn library_step(
        &self,
        exercise: &Exercise,
        name: &str,
        path: &str,
        source: &str,
        out: &str,
    ) -> Step {
        let out_dir = std::path::Path::new(out)
            .parent()
            .and_then(|p| p.to_str())
            .unwrap_or("out");
        Step {
            name: name.into(),
            write: vec![
                JobFile {
                    path: path.into(),
                    contents: source.into(),
                },
                // rustc needs the output directory to exist.
                JobFile {
                    path: format!("{out_dir}/.keep"),
                    contents: String::new(),
                },
            ],
            delete: vec![],
            argv: self.learner_rustc(
                exercise,
                &[
                    "--crate-type",
                    "lib",
                    "--crate-name",
                    &exercise.crate_name,
                    path,
                    "-o",
                    out,
                ],
            ),
            env: vec![],
            limits: Limits::COMPILE,
            must_succeed: true,
        }
    }

    fn rustc(&self, args: &[&str]) -> Vec<String> {
        let mut argv = vec![
            format!("{}/bin/rustc", paths::TOOLCHAIN),
            "--edition".into(),
            "2024".into(),
            "--error-format".into(),
            "json".into(),
            "-C".into(),
            "debuginfo=0".into(),
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

    fn learner_rustc(&self, exercise: &Exercise, args: &[&str]) -> Vec<String> {
        let mut argv = self.rustc(args);
        if !exercise.allow_unsafe {
            argv.extend(["-F".into(), "unsafe_code".into()]);
        }
        for cfg in &exercise.cfg {
            argv.extend(["--cfg".into(), cfg.clone()]);
        }
        argv
    }

    fn test_rustc(
        &self,
        exercise: &Exercise,
        root: &str,
        extern_lib: &str,
        out: &str,
    ) -> Vec<String> {
        let mut argv = self.rustc(&[
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
        for cfg in &exercise.cfg {
            argv.extend(["--cfg".into(), cfg.clone()]);
        }
        argv
    }

    fn list_step(&self, binary: &str, exercise: &Exercise) -> Step {
        Step {
            name: "list".into(),
            write: vec![],
            // No test source stays readable once learner code runs.
            delete: vec![
                "tests/visible.rs".into(),
                "tests/hidden.rs".into(),
                "tests/main.rs".into(),
                "src/tests.rs".into(),
            ],
            argv: vec![
                format!("{}/{binary}", paths::JOB),
                "--list".into(),
                "--format".into(),
                "terse".into(),
            ],
            env: vec![],
            limits: self.run_limits(exercise),
            must_succeed: true,
        }
    }

    fn test_step(&self, name: &str, binary: &str, exercise: &Exercise) -> Step {
        let mut env: Vec<(String, String)> = vec![
            // libtest's JSON output is "unstable"; this unlocks it on stable.
            ("RUSTC_BOOTSTRAP".into(), "1".into()),
            ("RUST_BACKTRACE".into(), "0".into()),
        ];
        env.extend(exercise.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        Step {
            name: name.into(),
            write: vec![],
            delete: vec![],
            argv: vec![
                format!("{}/{binary}", paths::JOB),
                "-Z".into(),
                "unstable-options".into(),
                "--format".into(),
                "json".into(),
            ],
            env,
            limits: Limits {
                output_bytes: 1024 * 1024,
                ..self.run_limits(exercise)
            },
            must_succeed: false,
        }
    }

    fn run_limits(&self, exercise: &Exercise) -> Limits {
        let mut limits = Limits::RUN;
        if let Some(seconds) = exercise.limits.run_seconds {
            limits.wall_ms = seconds.min(self.ceiling.run_seconds) * 1000;
            limits.cpu_seconds = limits
                .cpu_seconds
                .max(seconds.min(self.ceiling.run_seconds) * 2);
        }
        if let Some(mb) = exercise.limits.run_memory_mb {
            limits.memory_mb = mb.min(self.ceiling.run_memory_mb);
        }
        limits
    }
}

fn internal(error: anyhow::Error, started: Instant) -> Verdict {
    tracing::error!(error = format!("{error:#}"), "grading failed");
    let mut verdict = Verdict::internal("the grader failed on our side; please try again");
    verdict.duration_ms.total = started.elapsed().as_millis() as u64;
    verdict
}

/// Wall time per phase, the steps sorted by [`phase_of`].
fn durations(steps: &[StepReport], started: Instant) -> Durations {
    let (compile, run) = steps.iter().fold((0, 0), |(c, r), s| {
        if phase_of(&s.name) == "compiling" {
            (c + s.wall_ms, r)
        } else {
            (c, r + s.wall_ms)
        }
    });
    Durations {
        queue: 0,
        compile,
        run,
        total: started.elapsed().as_millis() as u64,
    }
}

/// A timeout, memory or output verdict if `step` hit a limit.
fn limit_error(step: &StepReport) -> Option<Verdict> {
    let (reason, message) = match step.exit {
        Exit::Timeout => (
            Reason::Timeout,
            "it ran past its time limit and was stopped",
        ),
        Exit::OutputLimit => (
            Reason::OutputLimit,
            "it printed more output than allowed and was stopped",
        ),
        Exit::Signal(libc::SIGXCPU) => (Reason::Timeout, "it used more CPU time than allowed"),
        Exit::Signal(libc::SIGXFSZ) => (Reason::OutputLimit, "it wrote a file larger than allowed"),
        _ if !step.succeeded() && step.out_of_memory() => {
            (Reason::MemoryLimit, "it ran out of memory")
        }
        _ => return None,
    };
    Some(Verdict::new(
        Status::Error,
        Some(reason),
        message.to_string(),
    ))
}

fn compile_failure(step: &StepReport, compile_output: String) -> Verdict {
    let mut verdict = limit_error(step)
        .map(|mut v| {
            v.message = v.message.map(|m| format!("compilation: {m}"));
            v
        })
        .unwrap_or_else(|| {
            Verdict::new(
                Status::Error,
                Some(Reason::CompileError),
                "your code does not compile".to_string(),
            )
        });
    verdict.compile_output = if compile_output.is_empty() {
        step.stderr.clone()
    } else {
        compile_output
    };
    verdict
}

#[derive(Deserialize)]
struct RustcMessage {
    #[serde(rename = "$message_type")]
    message_type: Option<String>,
    message: String,
    level: String,
    rendered: Option<String>,
    #[serde(default)]
    spans: Vec<RustcSpan>,
}

#[derive(Deserialize)]
struct RustcSpan {
    file_name: String,
    line_start: u32,
    column_start: u32,
    is_primary: bool,
}

/// Reads rustc's JSON diagnostics: the rendered text (as `cargo` shows it)
/// and the locations in `learner_file`. Diagnostics located in `secret_file`
/// are replaced by one line, so hidden tests never show their source.
fn read_diagnostics(
    stderr: &str,
    learner_file: &str,
    secret_file: Option<&str>,
) -> (String, Vec<Diagnostic>) {
    let mut rendered = String::new();
    let mut diagnostics = Vec::new();
    let mut secret_errors = 0;
    for line in stderr.lines() {
        let Ok(message) = serde_json::from_str::<RustcMessage>(line) else {
            if !line.trim().is_empty() && !line.starts_with('{') {
                rendered.push_str(line);
                rendered.push('\n');
            }
            continue;
        };
        if message
            .message_type
            .as_deref()
            .is_some_and(|t| t != "diagnostic")
        {
            continue;
        }
        let primary = message.spans.iter().find(|s| s.is_primary);
        if let (Some(secret), Some(span)) = (secret_file, primary)
            && span.file_name == secret
        {
            secret_errors += 1;
            continue;
        }
        if let Some(span) = primary.filter(|s| s.file_name == learner_file) {
            diagnostics.push(Diagnostic {
                level: message.level.clone(),
                message: message.message.clone(),
                line: span.line_start,
                column: span.column_start,
            });
        }
        if let Some(text) = message.rendered {
            rendered.push_str(&text);
        }
    }
    if secret_errors > 0 {
        rendered.push_str(&format!(
            "error: {secret_errors} error(s) in the hidden tests: they use an item your code does not provide as the statement describes\n"
        ));
    }
    (rendered, diagnostics)
}

/// Test names from `--list --format terse` (`name: test`).
fn parse_test_list(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|line| line.strip_suffix(": test"))
        .map(str::to_string)
        .collect()
}

#[derive(Deserialize)]
struct TestEvent {
    #[serde(rename = "type")]
    kind: String,
    event: String,
    name: Option<String>,
    stdout: Option<String>,
}

/// Builds the verdict of a libtest JSON run against the expected test list.
fn read_test_run(
    step: &StepReport,
    expected: &[String],
    is_hidden: impl Fn(&str) -> bool,
) -> Verdict {
    let mut outcomes: HashMap<String, (Status, Option<String>)> = HashMap::new();
    let mut tampered = false;
    for line in step.stdout.lines() {
        let Ok(event) = serde_json::from_str::<TestEvent>(line) else {
            continue;
        };
        let Some(name) = event.name.filter(|_| event.kind == "test") else {
            continue;
        };
        let status = match event.event.as_str() {
            "ok" => Status::Pass,
            "failed" => Status::Fail,
            _ => continue,
        };
        // A second, different result for one test means the learner's code
        // printed fake results; trust neither.
        if let Some((previous, _)) = outcomes.insert(name, (status, event.stdout)) {
            tampered |= previous != status;
        }
    }
    let mut tests = Vec::with_capacity(expected.len());
    let mut missing = 0;
    for name in expected {
        let hidden = is_hidden(name);
        let (status, message, output) = match outcomes.remove(name) {
            Some((Status::Pass, _)) => (Status::Pass, None, None),
            Some((_, captured)) => {
                let (message, output) = split_failure(captured.as_deref().unwrap_or(""));
                (Status::Fail, message, output)
            }
            None => {
                missing += 1;
                (Status::Error, Some("did not finish".to_string()), None)
            }
        };
        tests.push(TestResult {
            name: name.clone(),
            status,
            message: if hidden {
                (status != Status::Pass).then(|| "a hidden test failed".to_string())
            } else {
                message
            },
            output: if hidden { None } else { output },
            hidden,
        });
    }
    let mut verdict = if let Some(error) = limit_error(step) {
        error
    } else if tampered || !outcomes.is_empty() {
        Verdict::new(
            Status::Error,
            Some(Reason::RuntimeError),
            "the test output was not trustworthy (fake or unknown test results were printed)"
                .to_string(),
        )
    } else if missing > 0 {
        Verdict::new(
            Status::Error,
            Some(Reason::RuntimeError),
            format!(
                "the test run ended before {missing} test(s) reported a result (did the code exit or crash the process?)"
            ),
        )
    } else if tests.iter().all(|t| t.status == Status::Pass) {
        if step.succeeded() {
            Verdict::new(
                Status::Pass,
                None,
                format!("all {} tests passed", tests.len()),
            )
        } else {
            Verdict::new(
                Status::Error,
                Some(Reason::RuntimeError),
                "every test passed but the test process failed".to_string(),
            )
        }
    } else {
        let failed = tests.iter().filter(|t| t.status != Status::Pass).count();
        Verdict::new(
            Status::Fail,
            None,
            format!("{failed} of {} tests failed", tests.len()),
        )
    };
    verdict.tests = tests;
    if verdict.reason.is_some() && verdict.reason != Some(Reason::RuntimeError) {
        verdict.stderr = step.stderr.clone();
    }
    verdict
}

/// Splits libtest's captured output of a failed test into the panic message and what the test printed.
fn split_failure(captured: &str) -> (Option<String>, Option<String>) {
    let Some(panic_at) = captured.find("panicked at ") else {
        return (None, non_empty(captured));
    };
    let line_start = captured[..panic_at].rfind('\n').map_or(0, |i| i + 1);
    let printed = &captured[..line_start];
    let after = &captured[panic_at..];
    let body_start = after.find('\n').map_or(after.len(), |i| i + 1);
    let body = &after[body_start..];
    let body_end = body
        .find("\nnote: ")
        .or_else(|| body.find("\nstack backtrace:"))
        .unwrap_or(body.len());
    (non_empty(&body[..body_end]), non_empty(printed))
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut text = text.to_string();
    if text.len() > MAX_TEST_TEXT {
        let cut = (0..=MAX_TEST_TEXT)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        text.truncate(cut);
        text.push_str("\n… (truncated)");
    }
    Some(text)
}

/// Per-test statistics the queue stores with a verdict.
pub fn counts(verdict: &Verdict) -> (i32, i32) {
    (verdict.passed() as i32, verdict.tests.len() as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(stdout: &str, exit: Exit) -> StepReport {
        StepReport {
            name: "test".into(),
            exit,
            stdout: stdout.into(),
            stderr: String::new(),
            truncated: false,
            wall_ms: 1,
            cpu_ms: 1,
            oom_killed: false,
        }
    }

    #[test]
    fn a_process_that_exits_before_reporting_every_test_is_an_error() {
        let out = r#"{ "type": "test", "name": "visible::a", "event": "ok" }"#;
        let verdict = read_test_run(
            &step(out, Exit::Code(0)),
            &["visible::a".into(), "hidden::b".into()],
            |n| n.starts_with("hidden::"),
        );
        assert_eq!(verdict.status, Status::Error);
        assert_eq!(verdict.reason, Some(Reason::RuntimeError));
        assert_eq!(verdict.tests[1].status, Status::Error);
    }

    #[test]
    fn forged_results_are_not_trusted() {
        let out = "{ \"type\": \"test\", \"name\": \"visible::a\", \"event\": \"ok\" }\n{ \"type\": \"test\", \"name\": \"visible::a\", \"event\": \"failed\", \"stdout\": \"\" }";
        let verdict = read_test_run(&step(out, Exit::Code(101)), &["visible::a".into()], |_| {
            false
        });
        assert_eq!(verdict.status, Status::Error);
    }

    #[test]
    fn hidden_failures_do_not_reveal_their_assertion() {
        let out = r#"{ "type": "test", "name": "hidden::b", "event": "failed", "stdout": "thread 'hidden::b' panicked at tests/hidden.rs:3:5:\nassert secret 42\n" }"#;
        let verdict = read_test_run(&step(out, Exit::Code(101)), &["hidden::b".into()], |n| {
            n.starts_with("hidden::")
        });
        assert_eq!(verdict.status, Status::Fail);
        let test = &verdict.tests[0];
        assert!(test.hidden);
        assert!(!test.message.as_deref().unwrap_or("").contains("secret"));
        assert!(test.output.is_none());
    }

    #[test]
    fn failure_messages_are_split_from_printed_output() {
        let captured = "hello from the test\nthread 'visible::a' panicked at tests/visible.rs:4:5:\nassertion `left == right` failed\n  left: 1\n right: 2\nnote: run with `RUST_BACKTRACE=1`";
        let (message, output) = split_failure(captured);
        assert_eq!(output.as_deref(), Some("hello from the test"));
        assert!(
            message
                .unwrap()
                .starts_with("assertion `left == right` failed")
        );
    }

    #[test]
    fn diagnostics_in_hidden_tests_are_redacted() {
        let stderr = r#"{"$message_type":"diagnostic","message":"cannot find function `secret_helper`","level":"error","rendered":"error: cannot find function `secret_helper` in tests/hidden.rs","spans":[{"file_name":"tests/hidden.rs","line_start":3,"column_start":5,"is_primary":true}]}"#;
        let (rendered, _) = read_diagnostics(stderr, "tests/visible.rs", Some("tests/hidden.rs"));
        assert!(!rendered.contains("secret_helper"));
        assert!(rendered.contains("hidden tests"));
    }
}
