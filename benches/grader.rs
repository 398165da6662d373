//! Grader benchmark: submit→verdict latency on a warm pool versus two
//! baselines measured in the same run: a direct `rustc` build of the same
//! crate against the same prebuilt rlibs (library, then tests, then running
//! them; no sandbox, no queue — the grader's floor) and a bare `cargo test`.
//! Then throughput with 20 submissions in flight, against 20 direct builds
//! two at a time. Then the build cache: an identical resubmission against
//! a fresh one, `lockstep grade` from the command line against the direct
//! build, and a class of 40 clicking Run on the same lesson example at once.
//!
//! Run: `cargo bench --bench grader` (uses `DATABASE_URL` or a private
//! PostgreSQL under `target/bench-data`). Prints figures; asserts nothing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use lockstep::application::{Application, Grading};
use lockstep::config::Settings;
use lockstep::curriculum::Exercise;
use lockstep::db::embedded::{Durability, PrivateCluster};
use lockstep::grading::deps;
use lockstep::grading::job::{JobStatus, Mode, Outcome};
use lockstep::grading::pool::PoolConfig;
use lockstep::grading::queue::{self, NewJob};

const EXERCISE: &str = "versioned-store";
const ROUNDS: usize = 15;
const IN_FLIGHT: usize = 20;
/// Learners clicking Run on the same lesson example at once.
const CLASS: usize = 40;

fn main() -> anyhow::Result<()> {
    tokio::runtime::Runtime::new()?.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let bench_dir = root.join("target/bench-data");
    std::fs::create_dir_all(&bench_dir)?;
    let programme = Arc::new(
        lockstep::curriculum::load(&root.join("curriculum")).map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    let exercise = programme
        .exercise(EXERCISE)
        .expect("benchmark exercise exists");
    let solution = std::fs::read_to_string(exercise.dir.join("solution.rs"))?;

    // The sandbox's helper: the `lockstep` binary cargo built for this
    // benchmark, with the bench (release) profile. Building it again here
    // with `cargo build --release` would rebuild half the tree on every run
    // (the two builds' environments differ) and outdate the other.
    let helper = PathBuf::from(env!("CARGO_BIN_EXE_lockstep"));
    let workspace = root.join("grader/deps");
    // The dependency cache the pool will use, for the direct-rustc baseline.
    let manifest = deps::prepare(&workspace, &bench_dir, &|| false)?;
    let url = match std::env::var("DATABASE_URL") {
        Ok(url) => url,
        Err(_) => {
            PrivateCluster::start(&bench_dir.join("pg"), Durability::Relaxed)?.url("lockstep_bench")
        }
    };
    // As an operator would after installing: the dependency cache and the
    // lesson examples prepared before the pool starts.
    let prepared = Settings {
        data_dir: bench_dir.clone(),
        database_url: None,
        curriculum: Some(root.join("curriculum")),
        grader_deps: Some(workspace.clone()),
        allow_no_cgroup: !lockstep::grading::sandbox::cgroup::available(),
        ..Settings::from_environment()
    };
    // Through the release binary: the sandbox's helper is the running
    // executable, which in this process is the benchmark, not `lockstep`.
    let status = Command::new(&helper)
        .args(["grader", "prepare", "--data-dir"])
        .arg(&bench_dir)
        .arg("--grader-deps")
        .arg(&workspace)
        .arg("--curriculum")
        .arg(root.join("curriculum"))
        .status()?;
    anyhow::ensure!(status.success(), "lockstep grader prepare failed");
    let db = lockstep::db::connect(&url, 10).await?;
    // The benchmark's own scratch database: start from an empty queue.
    sqlx::query!("TRUNCATE submissions CASCADE")
        .execute(&db)
        .await?;
    // The pool starts as `lockstep worker` starts it, with the release build
    // as the sandbox helper and the dependency cache under the bench dir.
    let settings = Settings {
        database_url: Some(url),
        ..prepared.clone()
    };
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let grading = Grading {
        config: PoolConfig::with_workers(cores),
        helper: helper.clone(),
    };
    let app = Application::with_programme(settings, programme.clone(), None, Some(grading)).await?;
    let stop = app.shutdown();
    let pool = tokio::spawn(app.run(db.clone()));

    let direct_dir = bench_dir.join("direct");
    let direct = DirectRustc::new(&manifest, exercise, &direct_dir)?;
    let baseline_crate = bench_dir.join("baseline");
    write_baseline_crate(&baseline_crate, &workspace, exercise, &solution)?;
    let baseline_target = bench_dir.join("baseline-target");
    // Warm both: dependencies built for the baseline, one job through the pool.
    bare_cargo_test(&baseline_crate, &baseline_target, &solution, 0)?;
    direct.build_and_test(&variant(&solution, 0), "warm")?;
    submit_and_wait(&db, exercise, &solution, 0).await?;

    let mut bare = Vec::new();
    let mut rustc = Vec::new();
    let mut sandboxed = Vec::new();
    let mut resubmitted = Vec::new();
    let mut command_line = Vec::new();
    let cli_file = bench_dir.join("cli-solution.rs");
    for round in 1..=ROUNDS {
        // Interleaved so machine noise hits all alike; each round changes the
        // code so nothing is cached.
        bare.push(bare_cargo_test(
            &baseline_crate,
            &baseline_target,
            &solution,
            round,
        )?);
        rustc.push(direct.build_and_test(&variant(&solution, round), "round")?);
        sandboxed.push(submit_and_wait(&db, exercise, &solution, round).await?);
        // The same code again: its library and tests come from the build cache.
        resubmitted.push(submit_and_wait(&db, exercise, &solution, round).await?);
        std::fs::write(&cli_file, variant(&solution, 5000 + round))?;
        command_line.push(grade_from_command_line(&helper, &bench_dir, &cli_file)?);
    }

    // Two direct builds at a time (the machine's cores), 20 in all.
    let started = Instant::now();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let lanes: Vec<_> = (0..2)
            .map(|lane| {
                let (direct, solution) = (&direct, &solution);
                scope.spawn(move || -> anyhow::Result<()> {
                    for i in 0..IN_FLIGHT / 2 {
                        direct.build_and_test(
                            &variant(solution, 2000 + lane * 100 + i),
                            &format!("lane{lane}"),
                        )?;
                    }
                    Ok(())
                })
            })
            .collect();
        for lane in lanes {
            lane.join().expect("a baseline lane")?;
        }
        Ok(())
    })?;
    let direct_throughput = IN_FLIGHT as f64 / started.elapsed().as_secs_f64();

    let started = Instant::now();
    let mut ids = Vec::new();
    for i in 0..IN_FLIGHT {
        ids.push(enqueue(&db, exercise, &variant(&solution, 1000 + i)).await?);
    }
    for id in ids {
        wait_done(&db, id).await?;
    }
    let throughput_elapsed = started.elapsed();

    // A class clicking Run on an unedited lesson example at once.
    let example = class_example(&programme);
    submit_run_and_wait(&db, &example).await?;
    let started = Instant::now();
    let mut runs = Vec::new();
    for _ in 0..CLASS {
        runs.push((enqueue_run(&db, &example).await?, Instant::now()));
    }
    let mut answered = Vec::new();
    for (id, enqueued) in runs {
        wait_done_any(&db, id).await?;
        answered.push(enqueued.elapsed());
    }
    let class_wall = started.elapsed();
    let example_direct = direct_example_build(&manifest, &bench_dir, &example)?;

    stop.cancel();
    pool.await??;

    let (bare_p50, bare_p95) = percentiles(&mut bare);
    let (rustc_p50, rustc_p95) = percentiles(&mut rustc);
    let (lock_p50, lock_p95) = percentiles(&mut sandboxed);
    println!(
        "grader benchmark: exercise {EXERCISE}, {ROUNDS} rounds, {cores} cores, {} workers",
        cores
    );
    println!(
        "  direct rustc lib+tests+run:      p50 {:>6.0} ms   p95 {:>6.0} ms",
        ms(rustc_p50),
        ms(rustc_p95)
    );
    println!(
        "  bare `cargo test` (warm deps):   p50 {:>6.0} ms   p95 {:>6.0} ms",
        ms(bare_p50),
        ms(bare_p95)
    );
    println!(
        "  lockstep submit→verdict:         p50 {:>6.0} ms   p95 {:>6.0} ms",
        ms(lock_p50),
        ms(lock_p95)
    );
    println!(
        "  ratio (p50 lockstep / p50 direct rustc): {:.2}   (target ≤ 1.10)",
        lock_p50.as_secs_f64() / rustc_p50.as_secs_f64()
    );
    println!(
        "  ratio (p50 lockstep / p50 bare cargo):   {:.2}",
        lock_p50.as_secs_f64() / bare_p50.as_secs_f64()
    );
    let (resubmitted_p50, _) = percentiles(&mut resubmitted);
    println!(
        "  identical resubmission:          p50 {:>6.0} ms   ratio to a fresh one {:.2}   (target ≤ 0.20)",
        ms(resubmitted_p50),
        resubmitted_p50.as_secs_f64() / lock_p50.as_secs_f64()
    );
    let (cli_p50, cli_p95) = percentiles(&mut command_line);
    println!(
        "  `lockstep grade` (fresh code):   p50 {:>6.0} ms   p95 {:>6.0} ms   ratio to direct rustc {:.2}   (target ≤ 1.10)",
        ms(cli_p50),
        ms(cli_p95),
        cli_p50.as_secs_f64() / rustc_p50.as_secs_f64()
    );
    let (class_p50, class_p95) = percentiles(&mut answered);
    println!(
        "  class: {CLASS} Runs of one lesson example at once: all answered in {:.0} ms (target ≤ 1000); p50 {:.0} ms, p95 {:.0} ms; one direct rustc build of it: {:.0} ms",
        ms(class_wall),
        ms(class_p50),
        ms(class_p95),
        ms(example_direct)
    );
    let throughput = IN_FLIGHT as f64 / throughput_elapsed.as_secs_f64();
    println!(
        "  throughput: {IN_FLIGHT} submissions in flight graded in {:.2} s = {:.2} verdicts/s",
        throughput_elapsed.as_secs_f64(),
        throughput
    );
    println!(
        "  direct rustc, 2 at a time: {direct_throughput:.2} builds/s; ratio {:.2}   (target ≥ 0.90)",
        throughput / direct_throughput
    );
    Ok(())
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn percentiles(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.95))
}

/// The solution with a different trailing comment, so every build is
/// fresh: in this run (the round) and against earlier runs' build cache
/// (the run's own nonce).
fn variant(solution: &str, round: usize) -> String {
    static RUN: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| uuid::Uuid::new_v4().simple().to_string());
    format!("{solution}\n// run {} round {round}\n", *RUN)
}

/// A cargo project equivalent to what the grader compiles: the solution as
/// the library, the visible and hidden tests as one integration test.
fn write_baseline_crate(
    dir: &Path,
    workspace: &Path,
    exercise: &Exercise,
    solution: &str,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::create_dir_all(dir.join("tests"))?;
    let deps_manifest = std::fs::read_to_string(workspace.join("Cargo.toml"))?;
    let dependencies = deps_manifest
        .split("[dependencies]")
        .nth(1)
        .unwrap_or("")
        .split("\n[")
        .next()
        .unwrap_or("")
        .lines()
        // Lockstep's own test runner (a path crate) is not a learner's dependency.
        .filter(|line| !line.contains("lockstep-harness") && !line.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[lib]\ndoctest = false\n\n[dependencies]{dependencies}\n[profile.dev]\ndebug = 0\n",
            exercise.crate_name.replace('_', "-")
        ),
    )?;
    std::fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock"))?;
    std::fs::write(dir.join("src/lib.rs"), solution)?;
    let tests = given_tests(exercise);
    std::fs::write(dir.join("tests/visible.rs"), &tests.visible)?;
    std::fs::write(dir.join("tests/hidden.rs"), &tests.hidden)?;
    std::fs::write(dir.join("tests/main.rs"), "mod visible;\nmod hidden;\n")?;
    Ok(())
}

fn bare_cargo_test(
    dir: &Path,
    target: &Path,
    solution: &str,
    round: usize,
) -> anyhow::Result<Duration> {
    std::fs::write(dir.join("src/lib.rs"), variant(solution, round))?;
    let started = Instant::now();
    let output = Command::new("cargo")
        .args(["test", "--quiet", "--offline"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .output()?;
    let elapsed = started.elapsed();
    anyhow::ensure!(
        output.status.success(),
        "baseline cargo test failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(elapsed)
}

async fn enqueue(db: &sqlx::PgPool, exercise: &Exercise, code: &str) -> anyhow::Result<i64> {
    Ok(queue::enqueue(
        db,
        NewJob {
            user_id: None,
            mode: Mode::Submit,
            exercise_id: Some(&exercise.id),
            exercise_hash: Some(&exercise.content_hash),
            code,
        },
        queue::JobLimits::NONE,
    )
    .await?)
}

async fn wait_done(db: &sqlx::PgPool, id: i64) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let job = queue::find(db, id)
            .await?
            .context("the submission exists")?;
        if job.status == JobStatus::Done {
            anyhow::ensure!(
                job.outcome == Some(Outcome::Pass),
                "submission {id} did not pass: {:?}",
                job.outcome
            );
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "submission {id} timed out");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The lesson example a class runs: the first one on tokio's runtime.
fn class_example(programme: &lockstep::curriculum::Programme) -> String {
    programme
        .lessons()
        .flat_map(|lesson| &lesson.examples)
        .find(|example| example.code.contains("#[tokio::main]"))
        .expect("a lesson example on tokio")
        .code
        .clone()
}

async fn enqueue_run(db: &sqlx::PgPool, code: &str) -> anyhow::Result<i64> {
    Ok(queue::enqueue(
        db,
        NewJob {
            user_id: None,
            mode: Mode::Run,
            exercise_id: None,
            exercise_hash: None,
            code,
        },
        queue::JobLimits::NONE,
    )
    .await?)
}

async fn submit_run_and_wait(db: &sqlx::PgPool, code: &str) -> anyhow::Result<()> {
    let id = enqueue_run(db, code).await?;
    wait_done_any(db, id).await
}

/// Waits for job `id` to finish, whatever its outcome.
async fn wait_done_any(db: &sqlx::PgPool, id: i64) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let job = queue::find(db, id).await?.context("the job exists")?;
        if job.status == JobStatus::Done {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "job {id} timed out");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// `lockstep grade` from the command line, as a learner or author would
/// type it (it must pass).
fn grade_from_command_line(
    helper: &Path,
    data_dir: &Path,
    file: &Path,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let output = Command::new(helper)
        .args(["grade", "--data-dir"])
        .arg(data_dir)
        .arg(EXERCISE)
        .arg(file)
        .output()?;
    let elapsed = started.elapsed();
    anyhow::ensure!(
        output.status.success(),
        "lockstep grade failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(elapsed)
}

/// The flags of every direct rustc build: the judge's own
/// (`src/grading/judge/rustc.rs`), so the floor compiles what the grader does.
const DIRECT_RUSTC_FLAGS: &[&str] = &[
    "--edition",
    "2024",
    "-C",
    "debuginfo=0",
    "-C",
    "strip=debuginfo",
];

/// One direct rustc build of `code` as a binary against the prebuilt rlibs.
fn direct_example_build(
    manifest: &deps::Manifest,
    bench_dir: &Path,
    code: &str,
) -> anyhow::Result<Duration> {
    let dir = bench_dir.join("direct-example");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("main.rs"), format!("{code}\n// direct\n"))?;
    let mut command = Command::new(manifest.toolchain.join("bin/rustc"));
    command.args(DIRECT_RUSTC_FLAGS).arg("-L");
    command.arg(format!("dependency={}", manifest.deps_dir.display()));
    for (name, file) in &manifest.externs {
        command.args([
            "--extern",
            &format!("{name}={}", manifest.deps_dir.join(file).display()),
        ]);
    }
    let started = Instant::now();
    let output = command
        .arg(dir.join("main.rs"))
        .arg("-o")
        .arg(dir.join("main"))
        .output()?;
    anyhow::ensure!(output.status.success(), "the direct example build failed");
    Ok(started.elapsed())
}

async fn submit_and_wait(
    db: &sqlx::PgPool,
    exercise: &Exercise,
    solution: &str,
    round: usize,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let id = enqueue(db, exercise, &variant(solution, round)).await?;
    wait_done(db, id).await?;
    Ok(started.elapsed())
}

/// The grader's floor: the same two `rustc` calls the judge makes (the
/// solution as the exercise's library, then the visible and hidden tests
/// against it, both against the prebuilt rlibs, debuginfo off), then the
/// test binary, with no sandbox, harness, queue or database.
struct DirectRustc {
    rustc: PathBuf,
    externs: Vec<String>,
    deps_dir: PathBuf,
    crate_name: String,
    dir: PathBuf,
}

impl DirectRustc {
    fn new(manifest: &deps::Manifest, exercise: &Exercise, dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let tests = given_tests(exercise);
        std::fs::write(dir.join("visible.rs"), &tests.visible)?;
        std::fs::write(dir.join("hidden.rs"), &tests.hidden)?;
        std::fs::write(dir.join("tests.rs"), "mod visible;\nmod hidden;\n")?;
        Ok(Self {
            rustc: manifest.toolchain.join("bin/rustc"),
            externs: manifest
                .externs
                .iter()
                .map(|(name, file)| format!("{name}={}", manifest.deps_dir.join(file).display()))
                .collect(),
            deps_dir: manifest.deps_dir.clone(),
            crate_name: exercise.crate_name.clone(),
            dir: dir.to_path_buf(),
        })
    }

    /// Builds and runs `code` in a directory of its own named `lane`.
    fn build_and_test(&self, code: &str, lane: &str) -> anyhow::Result<Duration> {
        let out = self.dir.join(lane);
        std::fs::create_dir_all(&out)?;
        std::fs::write(out.join("lib.rs"), code)?;
        let rlib = out.join(format!("lib{}.rlib", self.crate_name));
        let tests = out.join("tests");
        let started = Instant::now();
        self.rustc(&[
            "--crate-type",
            "lib",
            "--crate-name",
            &self.crate_name,
            out.join("lib.rs").to_str().unwrap(),
            "-o",
            rlib.to_str().unwrap(),
        ])?;
        self.rustc(&[
            "--test",
            self.dir.join("tests.rs").to_str().unwrap(),
            "-o",
            tests.to_str().unwrap(),
            "--extern",
            &format!("{}={}", self.crate_name, rlib.display()),
            "-A",
            "warnings",
        ])?;
        let run = Command::new(&tests).arg("--quiet").output()?;
        anyhow::ensure!(run.status.success(), "the direct build's tests failed");
        Ok(started.elapsed())
    }

    fn rustc(&self, args: &[&str]) -> anyhow::Result<()> {
        let mut command = Command::new(&self.rustc);
        command.args(DIRECT_RUSTC_FLAGS).arg("-L");
        command.arg(format!("dependency={}", self.deps_dir.display()));
        for name_and_path in &self.externs {
            command.args(["--extern", name_and_path]);
        }
        let output = command.args(args).output()?;
        anyhow::ensure!(
            output.status.success(),
            "rustc failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(())
    }
}

/// The tests of the benchmark's exercise (an `implement` exercise).
fn given_tests(exercise: &Exercise) -> &lockstep::curriculum::GivenTests {
    match &exercise.work {
        lockstep::curriculum::Work::GivenTests(tests) => tests,
        lockstep::curriculum::Work::LearnerTests(_)
        | lockstep::curriculum::Work::Written(_)
        | lockstep::curriculum::Work::Review(_) => {
            panic!("the benchmark needs an exercise with given tests")
        }
    }
}
