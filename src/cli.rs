//! Command-line tasks that are not the server: running and grading files,
//! listing and checking content, preparing the grader.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::json;

use crate::application::load_programme;
use crate::config::Settings;
use crate::curriculum::{ExerciseKind, Item, Work};
use crate::grading::code::MAX_CODE_BYTES;
use crate::grading::judge::{Judge, Mode};
use crate::grading::verdict::{Reason, Status, Verdict};

/// Builds a judge for command-line use (preparing the cache if needed).
pub async fn judge(settings: &Settings) -> Result<Judge> {
    let helper = std::env::current_exe().context("cannot find the lockstep binary")?;
    Judge::prepare(settings, helper).await
}

/// `lockstep grader prepare`: the dependency cache, then every runnable
/// example of the programme into the build cache.
pub async fn prepare_grader(settings: &Settings) -> Result<()> {
    let programme = load_programme(settings)?;
    let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut judge = judge(settings).await?;
    judge.keep_warm(parallel);
    let started = std::time::Instant::now();
    let (built, failed) = tokio::task::spawn_blocking(move || {
        let built = judge.prebuild_examples(&programme, parallel, &|| false);
        judge.settle();
        built
    })
    .await?;
    eprintln!(
        "Lesson examples in the build cache: {built} ({:.1} s).",
        started.elapsed().as_secs_f64()
    );
    if !failed.is_empty() {
        anyhow::bail!(
            "these examples do not compile (see `lockstep curriculum verify`): {}",
            failed.join(", ")
        );
    }
    Ok(())
}

/// `lockstep run FILE [--json]`
pub async fn run_file(settings: &Settings, file: &Path, as_json: bool) -> Result<ExitCode> {
    let code = read_code(file)?;
    let judge = judge(settings).await?;
    let verdict = tokio::task::spawn_blocking(move || {
        let verdict = judge.run_program(&code, None);
        judge.settle();
        verdict
    })
    .await?;
    report(&verdict, as_json)
}

/// `lockstep grade EXERCISE FILE [--json]`
pub async fn grade_file(
    settings: &Settings,
    exercise_id: &str,
    file: &Path,
    as_json: bool,
) -> Result<ExitCode> {
    // Only this exercise is loaded: rendering every lesson would cost
    // more than grading a solution that was compiled before.
    let exercise = crate::curriculum::load_exercise_by_id(&settings.curriculum_dir()?, exercise_id)
        .map_err(|e| anyhow::anyhow!("the curriculum is invalid: {e}"))?
        .with_context(|| format!("no exercise {exercise_id:?} (see `lockstep curriculum list`)"))?;
    let code = read_code(file)?;
    let started = std::time::Instant::now();
    let judge = judge(settings).await?;
    let judge_ready = started.elapsed();
    // The verdict, then its build kept in the cache before the process ends.
    let (verdict, graded) = tokio::task::spawn_blocking(move || {
        let verdict = judge.grade(&exercise, &code, Mode::Submit, None);
        let graded = started.elapsed();
        judge.settle();
        (verdict, graded)
    })
    .await?;
    tracing::debug!(
        judge_ready_ms = judge_ready.as_millis() as u64,
        graded_ms = graded.as_millis() as u64,
        stored_ms = started.elapsed().as_millis() as u64,
        "graded from the command line"
    );
    report(&verdict, as_json)
}

fn read_code(file: &Path) -> Result<String> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    if bytes.len() > MAX_CODE_BYTES {
        anyhow::bail!(
            "{} is larger than {} KiB",
            file.display(),
            MAX_CODE_BYTES / 1024
        );
    }
    String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8 text", file.display()))
}

/// Prints a verdict; exit code 0 for pass, 1 otherwise, 2 for internal errors.
fn report(verdict: &Verdict, as_json: bool) -> Result<ExitCode> {
    if as_json {
        println!("{}", serde_json::to_string_pretty(verdict)?);
    } else {
        if !verdict.compile_output.is_empty() {
            eprint!("{}", verdict.compile_output);
        }
        for test in &verdict.tests {
            let mark = match test.status {
                Status::Pass => "ok  ",
                Status::Fail => "FAIL",
                Status::Error => "ERR ",
            };
            println!(
                "{mark} {}{}",
                test.name,
                if test.hidden { " (hidden)" } else { "" }
            );
            if let Some(message) = &test.message {
                println!("       {}", message.replace('\n', "\n       "));
            }
        }
        // The captured output comes back with trailing whitespace trimmed:
        // end its last line, so the status line starts on its own.
        if !verdict.stdout.is_empty() {
            println!("{}", verdict.stdout.trim_end_matches('\n'));
        }
        if !verdict.stderr.is_empty() {
            eprintln!("{}", verdict.stderr.trim_end_matches('\n'));
        }
        let status = match verdict.status {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Error => "ERROR",
        };
        let reason = verdict
            .reason
            .map(|r| format!(" ({})", r.as_str()))
            .unwrap_or_default();
        eprintln!(
            "{status}{reason}: {} [compile {} ms, run {} ms, total {} ms]",
            verdict.message.as_deref().unwrap_or(""),
            verdict.duration_ms.compile,
            verdict.duration_ms.run,
            verdict.duration_ms.total
        );
    }
    Ok(match (verdict.status, verdict.reason) {
        (Status::Pass, _) => ExitCode::SUCCESS,
        (_, Some(crate::grading::verdict::Reason::InternalError)) => ExitCode::from(2),
        _ => ExitCode::from(1),
    })
}

/// `lockstep curriculum list [--json]`
pub fn curriculum_list(settings: &Settings, as_json: bool) -> Result<()> {
    let programme = load_programme(settings)?;
    if !as_json {
        for module in &programme.modules {
            println!("{}. {} ({})", module.number, module.title, module.id);
            for item in &module.items {
                match item {
                    Item::Lesson(lesson) => {
                        println!("   lesson    {:<28} {}", lesson.id, lesson.title)
                    }
                    Item::Exercise(exercise) => {
                        println!(
                            "   exercise  {:<28} {} [{}]",
                            exercise.id,
                            exercise.title,
                            exercise.kind.label()
                        )
                    }
                }
            }
        }
        return Ok(());
    }
    let modules: Vec<_> = programme
        .modules
        .iter()
        .map(|module| {
            let lessons: Vec<_> = module
                .lessons()
                .map(|lesson| {
                    json!({
                        "id": lesson.id,
                        "title": lesson.title,
                        "minutes": lesson.minutes,
                        "examples": lesson.examples.len(),
                        "path": lesson.path,
                    })
                })
                .collect();
            let exercises: Vec<_> = module
                .exercises()
                .map(|exercise| {
                    let dir = &exercise.dir;
                    let tests = match &exercise.work {
                        Work::LearnerTests(work) => work.mutants.iter().map(|m| dir.join("mutants").join(format!("{}.rs", m.name))).collect::<Vec<_>>(),
                        Work::GivenTests(_) => vec![dir.join("tests/visible.rs"), dir.join("tests/hidden.rs")],
                        Work::Written(_) => vec![dir.join("rubric.toml")],
                        Work::Review(_) => vec![dir.join("pr.diff"), dir.join("defects.toml")],
                    };
                    json!({
                        "id": exercise.id,
                        "title": exercise.title,
                        "kind": exercise.kind,
                        "difficulty": exercise.difficulty,
                        "minutes": exercise.minutes,
                        "hints": exercise.hints.len(),
                        "content_hash": exercise.content_hash,
                        "statement": dir.join("statement.md"),
                        "starter": match exercise.kind {
                            ExerciseKind::Written => Some(dir.join("template.md")),
                            ExerciseKind::Review => None,
                            _ => Some(dir.join("starter.rs")),
                        },
                        "solution": exercise.runs_code().then(|| dir.join("solution.rs")),
                        "implementation": matches!(exercise.work, Work::LearnerTests(_)).then(|| dir.join("implementation.rs")),
                        "tests": tests,
                    })
                })
                .collect();
            json!({
                "id": module.id,
                "title": module.title,
                "summary": module.summary,
                "lessons": lessons,
                "exercises": exercises,
            })
        })
        .collect();
    let out = json!({
        "title": programme.title,
        "modules": modules,
        "totals": {
            "modules": programme.modules.len(),
            "lessons": programme.lessons().count(),
            "exercises": programme.exercises().count(),
        },
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// One check of `curriculum verify`.
enum Check<'a> {
    Starter(&'a crate::curriculum::Exercise),
    Solution(&'a crate::curriculum::Exercise),
    Example(&'a crate::curriculum::Lesson, usize),
    /// A `predict` concept check: its program prints exactly its keyed option.
    Predict(&'a crate::curriculum::Lesson, usize),
}

/// `lockstep curriculum verify`: every exercise's starter compiles and fails,
/// its reference solution passes (for `tests` exercises: passes on the
/// implementation and catches every mutant), every runnable example
/// prints its recorded output, and every `predict` concept check's program
/// prints exactly the option its key names and no other — all through the
/// real sandbox (the rest of a concept check is checked when it loads).
pub async fn curriculum_verify(settings: &Settings) -> Result<ExitCode> {
    let programme = load_programme(settings)?;
    let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut judge = judge(settings).await?;
    judge.keep_warm(parallel);
    let judge = std::sync::Arc::new(judge);
    let mut checks = Vec::new();
    // Written work and reviews have no code to run: a rubric, and a review's
    // key against its diff, were checked at load.
    for exercise in programme.exercises().filter(|e| e.runs_code()) {
        checks.push(Check::Starter(exercise));
        checks.push(Check::Solution(exercise));
    }
    for lesson in programme.lessons() {
        checks.extend((0..lesson.examples.len()).map(|index| Check::Example(lesson, index)));
        checks.extend(
            (0..lesson.checks.len())
                .filter(|&index| lesson.checks[index].program.is_some())
                .map(|index| Check::Predict(lesson, index)),
        );
    }
    let total = checks.len();
    let started = std::time::Instant::now();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    // Scoped threads: the sandbox is blocking, and the checks borrow the programme.
    std::thread::scope(|scope| {
        for _ in 0..parallel {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(check) = checks.get(index) else {
                        break;
                    };
                    let (label, problem) = run_check(&judge, check);
                    match &problem {
                        None => println!("ok    {label}"),
                        Some(problem) => println!("FAIL  {label}: {problem}"),
                    }
                    if let Some(problem) = problem {
                        failures
                            .lock()
                            .unwrap_or_else(|poisoned| poisoned.into_inner())
                            .push(format!("{label}: {problem}"));
                    }
                }
            });
        }
    });
    let failures = failures
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    println!(
        "{} of {total} checks passed in {:.1} s ({} exercises, {} lessons)",
        total - failures.len(),
        started.elapsed().as_secs_f64(),
        programme.exercises().count(),
        programme.lessons().count()
    );
    judge.settle();
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn run_check(judge: &Judge, check: &Check<'_>) -> (String, Option<String>) {
    match check {
        Check::Starter(exercise) => {
            let verdict = judge.grade(exercise, &exercise.starter, Mode::Submit, None);
            (
                format!("{} starter fails", exercise.id),
                starter_problem(&verdict),
            )
        }
        Check::Solution(exercise) => {
            let verdict = judge.grade(exercise, &exercise.solution, Mode::Submit, None);
            (
                format!("{} solution passes", exercise.id),
                solution_problem(&verdict),
            )
        }
        Check::Example(lesson, index) => {
            let example = &lesson.examples[*index];
            let verdict = judge.run_program(&example.code, None);
            let expected = example.expected_output.as_deref().unwrap_or("").trim_end();
            let problem = if verdict.status != Status::Pass {
                Some(summary(&verdict))
            } else if verdict.stdout.trim_end() != expected {
                Some(format!(
                    "printed:\n{}\nexpected:\n{expected}",
                    verdict.stdout.trim_end()
                ))
            } else {
                None
            };
            (
                format!("{}/{} example {}", lesson.module_id, lesson.id, index + 1),
                problem,
            )
        }
        Check::Predict(lesson, index) => {
            let question = &lesson.checks[*index];
            // The same path as an example: one program, through the build cache.
            let verdict = judge.run_program(question.program.as_deref().unwrap_or(""), None);
            let problem = if verdict.status != Status::Pass {
                Some(summary(&verdict))
            } else {
                question.predict_problem(&verdict.stdout)
            };
            (
                format!(
                    "{}/{} concept check {:?}",
                    lesson.module_id, lesson.id, question.id
                ),
                problem,
            )
        }
    }
}

/// What is wrong with a starter graded `verdict`: it must compile, run and
/// fail a test, nothing else.
fn starter_problem(verdict: &Verdict) -> Option<String> {
    (verdict.status != Status::Fail).then(|| {
        format!(
            "the starter {}: {}",
            what_happened(verdict),
            summary(verdict)
        )
    })
}

/// What is wrong with a reference solution graded `verdict`: it must pass.
fn solution_problem(verdict: &Verdict) -> Option<String> {
    (verdict.status != Status::Pass).then(|| {
        format!(
            "the solution {}: {}",
            what_happened(verdict),
            summary(verdict)
        )
    })
}

/// What a graded run did, in an author's words: a timeout is not a
/// compile error, and neither is a crash.
fn what_happened(verdict: &Verdict) -> String {
    match (verdict.status, verdict.reason) {
        (Status::Pass, _) => "passes every test".into(),
        (Status::Fail, _) => format!(
            "fails {} of {} tests",
            verdict.tests.len() - verdict.passed(),
            verdict.tests.len()
        ),
        (Status::Error, Some(Reason::CompileError)) => "does not compile".into(),
        (Status::Error, Some(Reason::Timeout)) => {
            "times out (it hit the run's wall-clock or CPU limit)".into()
        }
        (Status::Error, Some(Reason::MemoryLimit)) => "runs out of memory".into(),
        (Status::Error, Some(Reason::OutputLimit)) => "prints more than the output limit".into(),
        (Status::Error, Some(Reason::RuntimeError)) => {
            "crashes (the test run ended before every test reported)".into()
        }
        (Status::Error, Some(Reason::InternalError)) => {
            "could not be graded (the grader failed, not the code)".into()
        }
        (Status::Error, None) => "ends in an error".into(),
    }
}

fn summary(verdict: &Verdict) -> String {
    let failed: Vec<&str> = verdict
        .tests
        .iter()
        .filter(|t| t.status != Status::Pass)
        .map(|t| t.name.as_str())
        .collect();
    let mut text = format!(
        "{:?}: {}",
        verdict.status,
        verdict.message.as_deref().unwrap_or("")
    );
    if !failed.is_empty() {
        text.push_str(&format!(" (failing: {})", failed.join(", ")));
    }
    if !verdict.compile_output.is_empty() {
        text.push('\n');
        text.push_str(
            &verdict
                .compile_output
                .chars()
                .take(2000)
                .collect::<String>(),
        );
    }
    text
}

/// `lockstep cluster list`: the private clusters under /var/tmp, with the
/// data dir each belongs to and whether that still exists.
pub fn cluster_list() -> Result<()> {
    use crate::db::embedded::{FALLBACK_ROOT, find_clusters};
    let clusters = find_clusters(std::path::Path::new(FALLBACK_ROOT));
    if clusters.is_empty() {
        println!("No private clusters under {FALLBACK_ROOT}.");
    }
    for cluster in clusters {
        let state = if cluster.running {
            "running"
        } else {
            "stopped"
        };
        let owner = match &cluster.data_dir {
            Some(dir) if cluster.is_orphan() => format!("orphan: {} is gone", dir.display()),
            Some(dir) => format!("data dir {}", dir.display()),
            None => "data dir unknown (made by an older Lockstep)".to_string(),
        };
        println!("{}  {state}  {owner}", cluster.home.display());
    }
    Ok(())
}

/// `lockstep cluster remove-orphans`: stops and deletes every private
/// cluster under /var/tmp whose data dir is gone.
pub fn cluster_remove_orphans() -> Result<()> {
    use crate::db::embedded::{FALLBACK_ROOT, find_clusters, remove_cluster};
    let mut removed = 0;
    for cluster in find_clusters(std::path::Path::new(FALLBACK_ROOT)) {
        if cluster.is_orphan() {
            remove_cluster(&cluster.home)?;
            println!("removed {}", cluster.home.display());
            removed += 1;
        }
    }
    println!("{removed} orphaned clusters removed.");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grading::verdict::TestResult;

    fn test(name: &str, status: Status) -> TestResult {
        TestResult {
            name: name.into(),
            status,
            message: None,
            output: None,
            hidden: false,
            test_code: None,
        }
    }

    #[test]
    fn a_starter_that_times_out_is_said_to_time_out() {
        let verdict = Verdict::new(
            Status::Error,
            Some(Reason::Timeout),
            Some("the tests ran longer than 10 s".to_string()),
        );
        let problem = starter_problem(&verdict).expect("a timeout is a problem");
        assert!(
            problem.starts_with("the starter times out (it hit the run's wall-clock or CPU limit)"),
            "{problem}"
        );
        assert!(
            problem.contains("the tests ran longer than 10 s"),
            "{problem}"
        );
        assert!(!problem.contains("compile"), "{problem}");
    }

    #[test]
    fn each_way_a_starter_goes_wrong_has_its_own_words() {
        let error = |reason| Verdict::new(Status::Error, Some(reason), None);
        let said = |verdict: &Verdict| starter_problem(verdict).expect("a problem");
        assert!(said(&error(Reason::CompileError)).starts_with("the starter does not compile:"));
        assert!(said(&error(Reason::RuntimeError)).starts_with("the starter crashes"));
        assert!(said(&error(Reason::MemoryLimit)).starts_with("the starter runs out of memory"));
        let mut passing = Verdict::new(Status::Pass, None, None);
        passing.tests = vec![test("visible::a", Status::Pass)];
        assert!(said(&passing).starts_with("the starter passes every test"));
    }

    #[test]
    fn a_failing_starter_is_fine_and_a_failing_solution_says_how_much() {
        let mut failing = Verdict::new(Status::Fail, None, None);
        failing.tests = vec![
            test("visible::a", Status::Pass),
            test("visible::b", Status::Fail),
            test("hidden::c", Status::Fail),
        ];
        assert_eq!(starter_problem(&failing), None);
        let problem = solution_problem(&failing).expect("a failing solution");
        assert!(
            problem.starts_with("the solution fails 2 of 3 tests"),
            "{problem}"
        );
        assert!(
            problem.contains("failing: visible::b, hidden::c"),
            "{problem}"
        );
    }
}
