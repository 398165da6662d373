//! Turning code into a verdict: which steps to run in the sandbox for a
//! program, an exercise, or a learner's own tests, and how to read what
//! they report.
//!
//! One module per kind of graded work that runs code:
//! `program` (a lesson's example or a scratch pad), `given_tests`
//! (kinds `implement` and `fix`: the learner's library against our tests)
//! and `learner_tests` (kind `tests`: the learner's tests against our
//! implementation and its mutants). `written` (kind `written`) is the one
//! kind judged by a person: it checks an instructor's rubric scores and never
//! reaches the sandbox; `review` (kind `review`) scores a learner's marks on
//! a pull request against its answer key, also without the sandbox. Each of the others builds its steps from the same
//! parts — `rustc` command lines, the trusted [`harness`](super::harness),
//! `diagnostics` — and reads the reports into a [`Verdict`].
//!
//! Compilation is split so the learner's code never compiles next to test
//! sources it should not see: first the learner's file alone (as a library,
//! or a binary for programs), then the tests against the compiled rlib.
//! Learner code then runs only in run steps, each in a fresh minimal root
//! ([`Isolation::Run`]), and results come from the harness's pipe, never
//! from what the code printed.

mod diagnostics;
mod given_tests;
mod learner_tests;
mod program;
pub mod review;
mod rustc;
pub mod written;

use std::sync::Arc;
use std::time::Instant;

use super::build_cache::{self, BuildCache, BuildId};
use super::harness::{self, Outcome, Report};
use super::job::Phase;
use super::sandbox::warm::WarmSandbox;
use super::sandbox::{
    Artifact, Budget, Exit, Isolation, JobFile, JobReport, KeepArtifacts, Limits, Progress,
    Sandbox, Step, StepReport,
};
use super::verdict::{Durations, IntegrityFlag, Reason, Status, TestResult, Verdict};
pub use crate::config::Ceiling;
use crate::curriculum::{Exercise, Work};
use rustc::Rustc;

pub use super::job::Mode;

/// Compiles and runs code in the sandbox.
#[derive(Debug, Clone)]
pub struct Judge {
    sandbox: Sandbox,
    /// Artifacts of earlier compiles (None: every job compiles).
    cache: Option<Arc<BuildCache>>,
    /// What every artifact of this toolchain and dependency cache shares.
    build: BuildId,
    /// Sandboxes built ahead of their jobs, once [`Judge::keep_warm`] is called.
    warm: Option<WarmSandbox>,
    rustc: Rustc,
    ceiling: Ceiling,
}

/// The Rust edition every learner crate and test crate is compiled with
/// (also written into the projects `lockstep learn download` makes).
pub const EDITION: &str = "2024";
/// Size of each job's `/job`.
const SCRATCH_MB: u64 = 256;
/// Longest failure message kept per test.
const MAX_MESSAGE: usize = 4000;
/// Longest output kept per test (Exercism's results.json caps it at 500).
const MAX_OUTPUT: usize = 500;

impl Judge {
    /// A judge using the prepared dependency cache and the given helper binary.
    pub fn new(
        manifest: &super::deps::Manifest,
        helper: std::path::PathBuf,
        settings: &crate::config::Settings,
    ) -> Self {
        let mut sandbox = manifest.sandbox(helper);
        sandbox.require_cgroup = !settings.allow_no_cgroup;
        sandbox.cpus = settings.job_cpus;
        let cache = BuildCache::open(
            &settings.data_dir.join("grader/build-cache"),
            settings.build_cache_mb * 1024 * 1024,
        )
        .inspect_err(|error| {
            tracing::warn!(
                error = format!("{error:#}"),
                "no build cache: every job compiles"
            )
        })
        .ok()
        .filter(|_| settings.build_cache_mb > 0)
        .map(Arc::new);
        Self {
            sandbox,
            cache,
            build: manifest.build_id(),
            warm: None,
            rustc: Rustc::new(manifest),
            ceiling: settings.ceiling(),
        }
    }

    /// A judge for `settings`, building the dependency cache first if it is
    /// missing or stale (on a blocking thread: it may run cargo for a while).
    ///
    /// Refuses to start when job budgets cannot be enforced: no cgroup can
    /// be made and the operator did not pass `--allow-no-cgroup`.
    pub async fn prepare(
        settings: &crate::config::Settings,
        helper: std::path::PathBuf,
    ) -> anyhow::Result<Self> {
        Self::prepare_until(settings, helper, &crate::shutdown::Shutdown::new()).await
    }

    /// [`Judge::prepare`] that gives up (with [`super::deps::Cancelled`])
    /// soon after `shutdown` begins, stopping the cache's build.
    pub async fn prepare_until(
        settings: &crate::config::Settings,
        helper: std::path::PathBuf,
        shutdown: &crate::shutdown::Shutdown,
    ) -> anyhow::Result<Self> {
        if !settings.allow_no_cgroup && !super::sandbox::cgroup::available() {
            anyhow::bail!(
                "the grader cannot make a cgroup for its jobs, so their memory, process and CPU \
                 budgets cannot be enforced. Run Lockstep as root, or in a cgroup delegated to its \
                 user (systemd: Delegate=yes; see the README), or accept rlimits only with \
                 --allow-no-cgroup (LOCKSTEP_ALLOW_NO_CGROUP=1)"
            );
        }
        let workspace = settings.grader_deps_dir()?;
        let data_dir = settings.data_dir.clone();
        let shutdown = shutdown.clone();
        let manifest = tokio::task::spawn_blocking(move || {
            super::deps::prepare(&workspace, &data_dir, &|| shutdown.is_cancelled())
        })
        .await??;
        Ok(Self::new(&manifest, helper, settings))
    }

    /// From now on, keeps `count` sandboxes built ahead of their jobs (a
    /// grading pool: one per worker), so a job does not wait for its
    /// sandbox to be built. Jobs asking for more than the ceiling allows
    /// still get a sandbox built for them.
    pub fn keep_warm(&mut self, count: usize) {
        let budget = Budget {
            memory_mb: Limits::COMPILE
                .memory_mb
                .max(Limits::RUN.memory_mb)
                .max(self.ceiling.run_memory_mb),
            processes: Limits::COMPILE.processes.max(Limits::RUN.processes),
        };
        self.warm = Some(WarmSandbox::new(
            self.sandbox.clone(),
            SCRATCH_MB,
            budget,
            count,
        ));
    }

    /// Compiles `code` as a program into the build cache, unless it is
    /// there already, so that running it later is only a run. Whether it
    /// compiled (it is in the cache). Blocking.
    pub fn prebuild_program(&self, code: &str) -> anyhow::Result<bool> {
        let reports = self.run(vec![program::compile_step(self, code)], None)?;
        Ok(self.cache.is_some() && reports[0].succeeded())
    }

    /// Prebuilds every runnable example of `programme` ([`Self::prebuild_program`])
    /// with `threads` at a time until `stop` says so; how many are in the
    /// cache, and the ones that failed to build.
    pub fn prebuild_examples(
        &self,
        programme: &crate::curriculum::Programme,
        threads: usize,
        stop: &(dyn Fn() -> bool + Sync),
    ) -> (usize, Vec<String>) {
        let examples: Vec<(String, &str)> = programme
            .lessons()
            .flat_map(|lesson| {
                lesson
                    .examples
                    .iter()
                    .enumerate()
                    .map(move |(index, example)| {
                        (
                            format!("{}/{} example {}", lesson.module_id, lesson.id, index + 1),
                            example.code.as_str(),
                        )
                    })
            })
            .collect();
        let next = std::sync::atomic::AtomicUsize::new(0);
        let built = std::sync::atomic::AtomicUsize::new(0);
        let failed = std::sync::Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..threads.max(1) {
                scope.spawn(|| {
                    while !stop() {
                        let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((name, code)) = examples.get(index) else {
                            break;
                        };
                        match self.prebuild_program(code) {
                            Ok(true) => {
                                built.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            }
                            Ok(false) | Err(_) => failed
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .push(name.clone()),
                        }
                    }
                });
            }
        });
        (
            built.into_inner(),
            failed.into_inner().unwrap_or_else(|e| e.into_inner()),
        )
    }

    /// Compiles `code` as a program and runs it. Blocking.
    pub fn run_program(&self, code: &str, progress: Option<&Progress>) -> Verdict {
        let started = Instant::now();
        self.finish(program::run(self, code, progress), started)
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
        let graded = match &exercise.work {
            Work::GivenTests(tests) => {
                given_tests::grade(self, exercise, tests, code, mode, progress)
            }
            Work::LearnerTests(work) => learner_tests::grade(self, exercise, work, code, progress),
            // Refused before it is queued (`web::submissions`); a job that
            // got here anyway ends as an error, not a verdict.
            Work::Written(_) => Err(anyhow::anyhow!(
                "written work is scored by an instructor, not run in the sandbox"
            )),
            Work::Review(_) => Err(anyhow::anyhow!(
                "a review is scored against its key, not run in the sandbox"
            )),
        };
        self.finish(graded, started)
    }

    fn finish(
        &self,
        graded: anyhow::Result<(Verdict, Vec<StepReport>)>,
        started: Instant,
    ) -> Verdict {
        match graded {
            Ok((mut verdict, steps)) => {
                verdict.duration_ms = durations(&steps, started);
                verdict
            }
            Err(error) => internal(error, started),
        }
    }

    /// Runs `steps` in a fresh sandbox, skipping the leading compile
    /// steps whose artifacts the build cache holds, and keeping the
    /// artifacts of those it runs.
    fn run(
        &self,
        mut steps: Vec<Step>,
        progress: Option<&Progress>,
    ) -> anyhow::Result<Vec<StepReport>> {
        let Some(cache) = &self.cache else {
            return Ok(self.launch(steps, Vec::new(), progress, None)?.steps);
        };
        let keys = build_cache::keys(&self.build, &steps);
        // An identical job in flight on this node: wait, then use its artifacts.
        let flight = keys
            .iter()
            .flatten()
            .last()
            .map(|key| cache.single_flight(key));
        let mut hits = Vec::new();
        for (index, key) in keys.iter().enumerate() {
            let Some(entry) = key.as_ref().and_then(|key| cache.get(key)) else {
                break;
            };
            if let Some(artifact) = &mut steps[index].artifact {
                artifact.reuse = true;
            }
            hits.push((index, entry));
        }
        let mut reused = Vec::with_capacity(hits.len());
        let mut reports = Vec::with_capacity(hits.len());
        for (index, entry) in hits {
            reused.push((entry.file, entry.length));
            let mut cached = entry.report;
            cached.reused = true;
            cached.wall_ms = 0;
            cached.cpu_ms = 0;
            reports.push((index, cached));
        }
        if reports.len() == steps.len() {
            // Nothing left to run (a prebuild of something already built).
            return Ok(reports.into_iter().map(|(_, report)| report).collect());
        }
        // Each artifact is stored as it arrives, while the job's later steps
        // run; identical jobs wait for them (their flight ends when the
        // last is stored and `keep` is dropped).
        let store = cache.storing();
        let keep: KeepArtifacts = Box::new(move |index, step, artifact| {
            let _landing = (&flight, &store);
            if let Some(Some(key)) = keys.get(index)
                && let Err(error) = store.cache().put(key, step, &artifact.0)
            {
                tracing::warn!(error = format!("{error:#}"), "cannot keep a build artifact");
            }
        });
        let mut report = self.launch(steps, reused, progress, Some(keep))?;
        for (index, cached) in reports {
            report.steps[index] = cached;
        }
        Ok(report.steps)
    }

    /// Runs `steps` in a sandbox built ahead when there is one.
    fn launch(
        &self,
        steps: Vec<Step>,
        reused: Vec<(std::fs::File, u64)>,
        progress: Option<&Progress>,
        keep: Option<KeepArtifacts>,
    ) -> anyhow::Result<JobReport> {
        match &self.warm {
            Some(warm) => warm.run(steps, reused, progress, keep),
            None => self
                .sandbox
                .start(SCRATCH_MB, Budget::of(&steps))?
                .finish_keeping(steps, reused, progress, keep),
        }
    }

    /// Waits until the artifacts of finished jobs are in the build cache
    /// (they are stored after the verdict): before a command-line process
    /// exits.
    pub fn settle(&self) {
        if let Some(cache) = &self.cache {
            cache.wait_for_stores();
        }
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
            isolation: Isolation::Toolchain,
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
            argv: self.rustc.learner_library(exercise, path, out),
            env: vec![],
            limits: Limits::COMPILE,
            must_succeed: true,
            artifact: Some(Artifact {
                path: out.into(),
                reuse: false,
            }),
        }
    }

    /// Compiles a test crate (the harness's root at `root`, written with
    /// `files`) against `extern_lib` into `out`.
    fn test_crate_step(
        &self,
        exercise: &Exercise,
        name: &str,
        files: Vec<JobFile>,
        root: &str,
        extern_lib: &str,
        out: &str,
    ) -> Step {
        Step {
            name: name.into(),
            isolation: Isolation::Toolchain,
            write: files,
            delete: vec![],
            argv: self.rustc.test_crate(exercise, root, extern_lib, out),
            // The harness is a `#![test_runner]`, an unstable feature of the
            // stable compiler; the learner's own library never gets this.
            env: vec![("RUSTC_BOOTSTRAP".into(), "1".into())],
            limits: Limits::COMPILE,
            must_succeed: true,
            artifact: Some(Artifact {
                path: out.into(),
                reuse: false,
            }),
        }
    }

    /// Runs the test binary `binary` under the harness with `args`, in a
    /// fresh run root.
    fn test_run_step(
        &self,
        exercise: &Exercise,
        name: &str,
        binary: &str,
        args: Vec<String>,
    ) -> Step {
        let mut env: Vec<(String, String)> = vec![("RUST_BACKTRACE".into(), "0".into())];
        env.extend(exercise.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        Step {
            name: name.into(),
            isolation: Isolation::Run {
                binary: binary.into(),
                results: true,
            },
            write: vec![],
            delete: vec![],
            argv: args,
            env,
            limits: self.run_limits(exercise),
            must_succeed: false,
            artifact: None,
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

/// Wall time per activity.
fn durations(steps: &[StepReport], started: Instant) -> Durations {
    let (compile, run) = steps.iter().fold((0, 0), |(c, r), s| match s.phase {
        Phase::Compiling => (c + s.wall_ms, r),
        Phase::Running => (c, r + s.wall_ms),
    });
    Durations {
        queue: 0,
        compile,
        run,
        total: started.elapsed().as_millis() as u64,
    }
}

/// A timeout, memory, output or system-call verdict if `step` hit a limit.
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
        Exit::Signal(libc::SIGSYS) => (
            Reason::RuntimeError,
            "it was stopped for a system call the grader does not allow (starting a process, or a kernel interface no solution needs)",
        ),
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

/// What a run of learner code did that no solution needs: shown to
/// instructors, who decide whether it was an attempt to cheat.
fn integrity_flags(step: &StepReport, report: Option<&Report>) -> Vec<IntegrityFlag> {
    let mut flags = Vec::new();
    if step.blocked_syscall() {
        flags.push(IntegrityFlag::BlockedSyscall);
    }
    if let (Some(report), Exit::Code(_)) = (report, &step.exit)
        && !report.complete
    {
        flags.push(IntegrityFlag::ExitedMidRun);
    }
    // libtest's JSON, printed by the code itself: results the grader never
    // reads, printed by someone who hoped it would.
    let stdout = step.stdout.replace(' ', "");
    if stdout.contains("\"type\":\"test\"") || stdout.contains("\"event\":\"ok\"") {
        flags.push(IntegrityFlag::PrintedFakeResults);
    }
    flags
}

/// The tests of one harness run as verdict entries (in file order), and
/// an error verdict if the run could not be judged. `hidden` runs give
/// pass/fail only; `source` (visible runs) supplies each test's code.
fn read_run(
    step: &StepReport,
    hidden: bool,
    display_name: impl Fn(&str) -> String,
    source: Option<&str>,
) -> (Vec<TestResult>, Option<Verdict>, Report) {
    let report = Report::read(&step.results);
    let tests = report
        .planned
        .iter()
        .map(|(name, line)| {
            let (status, message, output) = match report.finished.get(name) {
                Some(f) if f.outcome == Outcome::Pass => (Status::Pass, None, None),
                Some(f) => {
                    let (message, output) = diagnostics::split_failure(&f.output);
                    let message = message.or_else(|| non_empty(&f.message, MAX_MESSAGE));
                    (Status::Fail, message, output)
                }
                None => (Status::Error, Some("did not finish".to_string()), None),
            };
            TestResult {
                name: display_name(name),
                status,
                message: if hidden {
                    (status != Status::Pass).then(|| "a hidden test failed".to_string())
                } else {
                    message
                },
                output: if hidden { None } else { output },
                hidden,
                test_code: source.and_then(|s| harness::test_code(s, *line)),
            }
        })
        .collect::<Vec<_>>();
    let error = limit_error(step).or_else(|| {
        let unfinished = report.unfinished();
        if report.planned.is_empty() && !report.complete {
            Some(Verdict::new(
                Status::Error,
                Some(Reason::RuntimeError),
                "the test binary ended before it ran any test (did the code exit or crash the process?)"
                    .to_string(),
            ))
        } else if !report.complete || unfinished > 0 {
            Some(Verdict::new(
                Status::Error,
                Some(Reason::RuntimeError),
                format!(
                    "the test run ended before {unfinished} test(s) reported a result (did the code exit or crash the process?)"
                ),
            ))
        } else {
            None
        }
    });
    (tests, error, report)
}

/// A failure report split into the panic message and what was printed,
/// trimmed to the verdict's caps.
fn non_empty(text: &str, cap: usize) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut text = text.to_string();
    if text.len() > cap {
        let cut = (0..=cap)
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
