//! Soak: simulated learners over real HTTP for a few minutes, with faults,
//! and a check that nothing was lost.
//!
//! One web node runs in this process; grading runs in two `lockstep worker`
//! processes (the release build) on the same private PostgreSQL, as on a
//! real deployment. `SOAK_LEARNERS` learners (default 20) each log in and, for
//! `SOAK_SECONDS` (default 180), read a lesson, save a draft, submit right or
//! wrong code (or run the visible tests, or an example program) and wait for
//! its verdict, then open their history. Meanwhile one account floods its own
//! history (fifty 64 KiB alternating submissions, eight requests at a time,
//! each page and diff), a health probe polls `/healthz`, and the harness
//! kills a worker mid-job (SIGKILL; a supervisor restarts it, as systemd
//! would) and restarts PostgreSQL once.
//!
//! It prints p50/p95/p99 latency per route and verdicts per second, then
//! checks that every acknowledged submission ended exactly once with a
//! verdict (its row is done with a verdict, and the learner's attempt count
//! matches the graded submissions, so no job was finished twice), that no
//! draft was lost or silently overwritten (the stored draft is the last one
//! each learner saved, at the version they were told), and that no health
//! check took longer than 1 s. It exits non-zero when a check fails.
//!
//! Run: `cargo bench --bench soak` (figures in `BENCHMARKS.md`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use lockstep::application::Application;
use lockstep::auth::Role;
use lockstep::config::{ServeSettings, Settings};
use lockstep::db::embedded::{Durability, PrivateCluster};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

const EXERCISE: &str = "versioned-store";
const PASSWORD: &str = "correct horse battery staple";
const HEALTH_LIMIT: Duration = Duration::from_secs(1);
const WORKER_PROCESSES: usize = 2;
const FLOODERS: usize = 8;

fn main() -> Result<()> {
    // The web node's own errors (`RUST_LOG` to see more).
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "error".into()),
        )
        .init();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

/// Latencies and failures per route.
#[derive(Default)]
struct Recorder {
    routes: Mutex<BTreeMap<&'static str, Route>>,
}

#[derive(Default)]
struct Route {
    latencies: Vec<Duration>,
    failures: usize,
    /// Failures by status (0: no response).
    statuses: BTreeMap<u16, usize>,
}

impl Recorder {
    fn record(&self, route: &'static str, took: Duration, ok: bool) {
        self.record_status(route, took, ok, 0);
    }

    fn record_status(&self, route: &'static str, took: Duration, ok: bool, status: u16) {
        let mut routes = self.routes.lock().unwrap();
        let entry = routes.entry(route).or_default();
        entry.latencies.push(took);
        if !ok {
            entry.failures += 1;
            *entry.statuses.entry(status).or_default() += 1;
        }
    }
}

/// What the learners were told, to check against the database at the end.
#[derive(Default)]
struct Ledger {
    /// Submissions answered 201, by id.
    acknowledged: Mutex<HashSet<i64>>,
    /// Each learner's last saved draft: (code, version).
    drafts: Mutex<HashMap<i64, (String, i64)>>,
    /// 409s on drafts (each learner is the only writer of its draft: none expected).
    draft_conflicts: Mutex<usize>,
}

async fn run() -> Result<()> {
    let learners: usize = env_or("SOAK_LEARNERS", 20);
    let seconds: u64 = env_or("SOAK_SECONDS", 180);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let bench_dir = root.join("target/soak-data");
    std::fs::create_dir_all(&bench_dir)?;

    // The workers run the binary cargo built for this benchmark (the bench
    // profile is the release one), as operators would.
    let helper = PathBuf::from(env!("CARGO_BIN_EXE_lockstep"));
    println!("preparing the grader's dependency cache…");
    lockstep::grading::deps::prepare(&root.join("grader/deps"), &bench_dir, &|| false)?;

    let pg_dir = bench_dir.join("pg");
    let cluster = PrivateCluster::start(&pg_dir, Durability::Relaxed)?;
    let url = cluster.url("lockstep_soak");
    let db = lockstep::db::connect(&url, 20).await?;
    // A fresh start: the soak's own database, emptied.
    sqlx::query!("TRUNCATE users, submissions, throttle_counters CASCADE")
        .execute(&db)
        .await?;

    let programme = Arc::new(
        lockstep::curriculum::load(&root.join("curriculum")).map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    let exercise = programme.exercise(EXERCISE).context("the exercise")?;
    let solution = std::fs::read_to_string(exercise.dir.join("solution.rs"))?;
    let starter = exercise.starter.clone();
    let lesson_url = programme
        .modules
        .iter()
        .flat_map(|m| &m.items)
        .find_map(|item| match item {
            lockstep::curriculum::Item::Lesson(_) => Some(item.url()),
            lockstep::curriculum::Item::Exercise(_) => None,
        })
        .context("a lesson")?;

    let allow_no_cgroup = !lockstep::grading::sandbox::cgroup::available();
    let settings = Settings {
        data_dir: bench_dir.clone(),
        database_url: Some(url.clone()),
        curriculum: Some(root.join("curriculum")),
        grader_deps: Some(root.join("grader/deps")),
        allow_no_cgroup,
        ..Settings::from_environment()
    };
    let serve = ServeSettings {
        listen: "127.0.0.1:0".parse()?,
        static_dir: Some(root.join("static")),
        workers: Some(0),
        max_jobs_per_learner: 3,
        max_queued_jobs: 500,
        trusted_proxies: Vec::new(),
        housekeeping: Default::default(),
        accounts: Default::default(),
    };
    let app = Application::with_programme(settings, programme.clone(), Some(&serve), None).await?;
    let base = format!("http://{}", app.local_addr().context("an address")?);
    let web_shutdown = app.shutdown();
    let web_db = db.clone();
    let web = tokio::spawn(async move { app.run(web_db).await });

    // Grading workers in their own processes, restarted when they die.
    let worker_env = WorkerEnv {
        helper: helper.clone(),
        url: url.clone(),
        data_dir: bench_dir.clone(),
        allow_no_cgroup,
    };
    let workers = Arc::new(Mutex::new(
        (0..WORKER_PROCESSES)
            .map(|_| worker_env.spawn())
            .collect::<Result<Vec<Child>>>()?,
    ));
    let supervising = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let restarts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let supervisor = {
        let (workers, supervising, restarts) =
            (workers.clone(), supervising.clone(), restarts.clone());
        tokio::spawn(async move {
            while supervising.load(std::sync::atomic::Ordering::SeqCst) {
                {
                    let mut workers = workers.lock().unwrap();
                    for child in workers.iter_mut() {
                        if matches!(child.try_wait(), Ok(Some(_))) {
                            *child = worker_env.spawn().expect("restart a worker");
                            restarts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        })
    };

    // Accounts, made directly (sign-up is throttled per address, and all of
    // these come from 127.0.0.1).
    let hash = lockstep::auth::password::hash(
        &lockstep::auth::password::NewPassword::parse(PASSWORD).map_err(anyhow::Error::msg)?,
    )
    .await?;
    let mut accounts = Vec::new();
    for n in 0..=learners {
        let email = format!("soak{n}@example.com");
        let user = lockstep::auth::users::create(
            &db,
            &lockstep::auth::users::Email::parse(&email).map_err(anyhow::Error::msg)?,
            &lockstep::auth::users::DisplayName::parse(&format!("Soak {n}"))
                .map_err(anyhow::Error::msg)?,
            &hash,
            Role::Learner,
        )
        .await?;
        accounts.push(user);
    }
    let flooder = accounts.pop().context("the flooder")?;
    // The flooder's history: fifty 64 KiB submissions, each sharing almost
    // no line with the one before.
    let sevens: String = (0..32 * 1024).map(|i| format!("{}\n", i % 7)).collect();
    let fives: String = (0..32 * 1024).map(|i| format!("{}\n", i % 5)).collect();
    let mut flood_ids = Vec::new();
    for n in 0..50 {
        let code = if n % 2 == 0 { &sevens } else { &fives };
        let id = sqlx::query_scalar!(
            "INSERT INTO submissions (user_id, mode, exercise_id, exercise_hash, code, status,
                                      verdict_status, tests_passed, tests_total, finished_at)
             VALUES ($1, 'visible', $2, 'soak', $3, 'done', 'fail', 0, 3, now()) RETURNING id",
            flooder.id,
            EXERCISE,
            code,
        )
        .fetch_one(&db)
        .await?;
        flood_ids.push(id);
    }

    let recorder = Arc::new(Recorder::default());
    let ledger = Arc::new(Ledger::default());
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    println!(
        "soak: {learners} learners, {seconds} s, {WORKER_PROCESSES} worker processes, web node at {base}"
    );

    let mut tasks = tokio::task::JoinSet::new();
    for (index, user) in accounts.iter().enumerate() {
        let learner = Learner {
            base: base.clone(),
            email: user.email.clone(),
            user_id: user.id,
            lesson_url: lesson_url.clone(),
            solution: solution.clone(),
            starter: starter.clone(),
            recorder: recorder.clone(),
            ledger: ledger.clone(),
            seed: 0x9E37_79B9_7F4A_7C15 ^ (index as u64 + 1),
        };
        tasks.spawn(async move { learner.run(deadline).await });
    }
    let flood_client = logged_in_client(&base, &flooder.email).await?;
    for n in 0..FLOODERS {
        let (client, base, recorder, ids) = (
            flood_client.clone(),
            base.clone(),
            recorder.clone(),
            flood_ids.clone(),
        );
        tasks.spawn(async move {
            let mut i = n;
            while Instant::now() < deadline {
                let path = if i % 2 == 0 {
                    format!("/exercises/{EXERCISE}/history")
                } else {
                    let id = ids[i % ids.len()];
                    format!("/exercises/{EXERCISE}/history/{id}/diff?partial=1")
                };
                let route = if i % 2 == 0 {
                    "GET history (flood)"
                } else {
                    "GET diff (flood)"
                };
                let answered = timed(&recorder, route, client.get(format!("{base}{path}"))).await;
                // While the database is down every answer is an instant 503:
                // pause, so the outage does not swamp the figures.
                if !answered.is_some_and(|r| r.status().is_success()) {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                i += 1;
            }
            Ok(())
        });
    }
    // The health probe.
    let health = {
        let base = base.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client");
            let (mut slowest, mut probes, mut unhealthy) = (Duration::ZERO, 0usize, 0usize);
            while Instant::now() < deadline {
                let at = Instant::now();
                let ok = client
                    .get(format!("{base}/healthz"))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                slowest = slowest.max(at.elapsed());
                probes += 1;
                unhealthy += usize::from(!ok);
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            (slowest, probes, unhealthy)
        })
    };

    // Faults: a worker killed mid-job at 30 %, PostgreSQL restarted at 55 %.
    tokio::time::sleep_until((started + Duration::from_secs(seconds * 3 / 10)).into()).await;
    let killed = kill_a_worker_mid_job(&db, &workers).await?;
    println!(
        "fault: killed worker pid {} while it graded submission {} (at {:.0} s)",
        killed.0,
        killed.1,
        started.elapsed().as_secs_f64()
    );
    tokio::time::sleep_until((started + Duration::from_secs(seconds * 55 / 100)).into()).await;
    let outage = Instant::now();
    tokio::task::spawn_blocking(move || -> Result<()> {
        cluster.stop()?;
        std::thread::sleep(Duration::from_secs(2));
        PrivateCluster::start(&pg_dir, Durability::Relaxed)?;
        Ok(())
    })
    .await??;
    println!(
        "fault: PostgreSQL stopped and started again (down {:.1} s, at {:.0} s)",
        outage.elapsed().as_secs_f64(),
        (outage - started).as_secs_f64()
    );

    while let Some(done) = tasks.join_next().await {
        done??;
    }
    let (slowest_health, probes, unhealthy) = health.await?;
    let run_time = started.elapsed();

    // Drain: every job still queued or running gets its verdict.
    let drain_started = Instant::now();
    loop {
        let pending = sqlx::query_scalar!(
            r#"SELECT count(*) AS "pending!" FROM submissions WHERE status <> 'done'"#
        )
        .fetch_one(&db)
        .await?;
        if pending == 0 || drain_started.elapsed() > Duration::from_secs(300) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    supervising.store(false, std::sync::atomic::Ordering::SeqCst);
    supervisor.await?;
    for child in workers.lock().unwrap().iter_mut() {
        if let Some(pid) = child.id() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
    }
    let children: Vec<Child> = std::mem::take(&mut *workers.lock().unwrap());
    for mut child in children {
        let _ = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;
    }
    web_shutdown.cancel();
    let _ = web.await;

    // The figures.
    println!();
    println!(
        "{:<28} {:>7} {:>9} {:>9} {:>9} {:>9} {:>7}",
        "route", "n", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors"
    );
    for (route, entry) in recorder.routes.lock().unwrap().iter_mut() {
        entry.latencies.sort();
        let pick = |q: f64| {
            let i = ((entry.latencies.len() as f64 - 1.0) * q).round() as usize;
            entry.latencies[i].as_secs_f64() * 1000.0
        };
        let statuses: Vec<String> = entry
            .statuses
            .iter()
            .map(|(status, n)| format!("{n}×{status}"))
            .collect();
        println!(
            "{:<28} {:>7} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>7} {}",
            route,
            entry.latencies.len(),
            pick(0.50),
            pick(0.95),
            pick(0.99),
            pick(1.0),
            entry.failures,
            statuses.join(" ")
        );
    }

    // The checks.
    let learner_ids: Vec<i64> = accounts.iter().map(|u| u.id).collect();
    let rows = sqlx::query!(
        r#"SELECT id, status, verdict_status, attempts FROM submissions WHERE user_id = ANY($1)"#,
        &learner_ids,
    )
    .fetch_all(&db)
    .await?;
    let acknowledged = ledger.acknowledged.lock().unwrap().clone();
    let stored: HashSet<i64> = rows.iter().map(|r| r.id).collect();
    let lost = acknowledged.difference(&stored).count();
    let unacknowledged = stored.difference(&acknowledged).count();
    let unfinished = rows
        .iter()
        .filter(|r| r.status != "done" || r.verdict_status.is_none())
        .count();
    let retried = rows.iter().filter(|r| r.attempts > 1).count();
    let verdicts = rows.len() - unfinished;
    let twice = sqlx::query_scalar!(
        r#"SELECT count(*) AS "mismatched!" FROM (
               SELECT p.user_id, p.exercise_id, p.attempts,
                      (SELECT count(*) FROM submissions s
                        WHERE s.user_id = p.user_id AND s.exercise_id = p.exercise_id
                          AND s.mode = 'submit' AND s.status = 'done') AS graded
                 FROM exercise_progress p WHERE p.user_id = ANY($1)
           ) AS t WHERE attempts <> graded"#,
        &learner_ids,
    )
    .fetch_one(&db)
    .await?;
    let mut drafts_lost = 0;
    let last_saved = ledger.drafts.lock().unwrap().clone();
    for (user_id, (code, version)) in &last_saved {
        let stored = sqlx::query!(
            "SELECT code, version FROM drafts WHERE user_id = $1 AND exercise_id = $2",
            user_id,
            EXERCISE,
        )
        .fetch_optional(&db)
        .await?;
        if !stored.is_some_and(|s| &s.code == code && s.version == *version) {
            drafts_lost += 1;
        }
    }
    let draft_conflicts = *ledger.draft_conflicts.lock().unwrap();
    let drafts_saved = ledger.drafts.lock().unwrap().len();

    println!();
    println!(
        "verdicts: {verdicts} in {:.0} s = {:.2}/s (drain after the run: {:.1} s); {retried} graded again after a lost worker; worker restarts: {}",
        run_time.as_secs_f64(),
        verdicts as f64 / run_time.as_secs_f64(),
        drain_started.elapsed().as_secs_f64(),
        restarts.load(std::sync::atomic::Ordering::SeqCst),
    );
    println!(
        "submissions: {} acknowledged, {lost} lost, {unfinished} without a verdict, {twice} learner×exercise counts off (a job finished twice), {unacknowledged} stored but never acknowledged",
        acknowledged.len()
    );
    println!(
        "drafts: {drafts_saved} learners' last drafts checked, {drafts_lost} lost or overwritten, {draft_conflicts} unexpected conflicts"
    );
    println!(
        "health: {probes} probes, slowest {:.0} ms, {unhealthy} answered unhealthy (during the database restart)",
        slowest_health.as_secs_f64() * 1000.0
    );
    let mut failures = Vec::new();
    if lost + unfinished > 0 || twice > 0 {
        failures.push("a submission was lost, left without a verdict or finished twice");
    }
    if drafts_lost + draft_conflicts > 0 {
        failures.push("a draft was lost or overwritten");
    }
    if slowest_health > HEALTH_LIMIT {
        failures.push("a health check took longer than 1 s");
    }
    if !failures.is_empty() {
        bail!("soak failed: {}", failures.join("; "));
    }
    println!("soak passed");
    Ok(())
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// How to start a `lockstep worker` process.
struct WorkerEnv {
    helper: PathBuf,
    url: String,
    data_dir: PathBuf,
    allow_no_cgroup: bool,
}

impl WorkerEnv {
    fn spawn(&self) -> Result<Child> {
        let mut command = Command::new(&self.helper);
        command
            .args(["worker", "--workers", "1", "--lease-seconds", "5"])
            .env("DATABASE_URL", &self.url)
            .env("LOCKSTEP_DATA_DIR", &self.data_dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .kill_on_drop(true);
        if self.allow_no_cgroup {
            command.env("LOCKSTEP_ALLOW_NO_CGROUP", "1");
        }
        Ok(command.spawn()?)
    }
}

/// Waits for a job being graded, and SIGKILLs the worker process holding it.
async fn kill_a_worker_mid_job(
    db: &sqlx::PgPool,
    workers: &Mutex<Vec<Child>>,
) -> Result<(u32, i64)> {
    let ours: HashSet<u32> = workers
        .lock()
        .unwrap()
        .iter()
        .filter_map(Child::id)
        .collect();
    for _ in 0..600 {
        let running = sqlx::query!(
            r#"SELECT id, lease_owner AS "owner!" FROM submissions
                WHERE status = 'running' AND lease_owner IS NOT NULL"#
        )
        .fetch_all(db)
        .await?;
        for job in running {
            // `host/pid/…`
            let pid = job
                .owner
                .split('/')
                .nth(1)
                .and_then(|p| p.parse::<u32>().ok());
            if let Some(pid) = pid.filter(|p| ours.contains(p)) {
                nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid as i32),
                    nix::sys::signal::Signal::SIGKILL,
                )?;
                return Ok((pid, job.id));
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("no job was being graded for a minute")
}

/// A client with its own cookies, logged in as `email`.
async fn logged_in_client(base: &str, email: &str) -> Result<reqwest::Client> {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()?;
    let page = client
        .get(format!("{base}/login"))
        .send()
        .await?
        .text()
        .await?;
    let token = csrf(&page);
    let response = client
        .post(format!("{base}/login"))
        .form(&[
            ("email", email),
            ("password", PASSWORD),
            ("csrf_token", &token),
        ])
        .send()
        .await?;
    anyhow::ensure!(
        response.status() == reqwest::StatusCode::SEE_OTHER,
        "log-in of {email}: {}",
        response.status()
    );
    Ok(client)
}

fn csrf(html: &str) -> String {
    let marker = "<meta name=\"csrf-token\" content=\"";
    html.find(marker)
        .map(|start| {
            html[start + marker.len()..]
                .chars()
                .take_while(|c| *c != '"')
                .collect()
        })
        .unwrap_or_default()
}

/// Sends `request`, records its latency under `route`; the response if any.
async fn timed(
    recorder: &Recorder,
    route: &'static str,
    request: reqwest::RequestBuilder,
) -> Option<reqwest::Response> {
    let at = Instant::now();
    let response = request.send().await;
    let ok = response
        .as_ref()
        .is_ok_and(|r| r.status().is_success() || r.status().is_redirection());
    let status = response.as_ref().map_or(0, |r| r.status().as_u16());
    recorder.record_status(route, at.elapsed(), ok, status);
    response.ok()
}

/// One simulated learner.
struct Learner {
    base: String,
    email: String,
    user_id: i64,
    lesson_url: String,
    solution: String,
    starter: String,
    recorder: Arc<Recorder>,
    ledger: Arc<Ledger>,
    seed: u64,
}

impl Learner {
    fn next(&mut self) -> u64 {
        // xorshift64: reproducible, and enough for choosing what to do.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        self.seed
    }

    async fn run(mut self, deadline: Instant) -> Result<()> {
        let client = logged_in_client(&self.base, &self.email).await?;
        let base = self.base.clone();
        let page = client
            .get(format!("{base}/exercises/{EXERCISE}"))
            .send()
            .await?
            .text()
            .await?;
        let mut token = csrf(&page);
        let (mut version, mut saves) = (0i64, 0u64);
        let recorder = self.recorder.clone();
        while Instant::now() < deadline {
            timed(
                &recorder,
                "GET lesson",
                client.get(format!("{base}{}", self.lesson_url)),
            )
            .await;

            // Autosave: the next draft, based on the version last saved.
            saves += 1;
            let code = format!(
                "// draft {saves} of learner {}\n{}",
                self.user_id, self.starter
            );
            let put = client
                .put(format!("{base}/api/exercises/{EXERCISE}/draft"))
                .header("x-csrf-token", &token)
                .json(&json!({ "code": code, "version": version }));
            match timed(&recorder, "PUT draft", put).await {
                Some(r) if r.status().is_success() => {
                    let saved: Value = r.json().await?;
                    version = saved["version"].as_i64().context("a version")?;
                    self.ledger
                        .drafts
                        .lock()
                        .unwrap()
                        .insert(self.user_id, (code, version));
                }
                Some(r) if r.status() == reqwest::StatusCode::CONFLICT => {
                    *self.ledger.draft_conflicts.lock().unwrap() += 1;
                }
                // An error (the database restarting) may or may not have
                // saved: ask, as the page would on reload.
                _ => self.resync_draft(&client, &mut version).await,
            }

            let roll = self.next() % 10;
            let (path, body, route) = match roll {
                0..=3 => (
                    format!("/api/exercises/{EXERCISE}/submissions"),
                    json!({ "code": self.solution, "mode": "submit" }),
                    "POST submission",
                ),
                4..=6 => (
                    format!("/api/exercises/{EXERCISE}/submissions"),
                    json!({ "code": self.starter, "mode": "submit" }),
                    "POST submission",
                ),
                7..=8 => (
                    format!("/api/exercises/{EXERCISE}/submissions"),
                    json!({ "code": self.solution, "mode": "visible" }),
                    "POST submission",
                ),
                _ => (
                    "/api/run".to_string(),
                    json!({ "code": "fn main() { println!(\"hello\"); }" }),
                    "POST run",
                ),
            };
            let post = client
                .post(format!("{base}{path}"))
                .header("x-csrf-token", &token)
                .json(&body);
            let created = match timed(&recorder, route, post).await {
                Some(r) if r.status() == reqwest::StatusCode::CREATED => {
                    let body: Value = r.json().await?;
                    body["id"].as_i64()
                }
                Some(r) if r.status() == reqwest::StatusCode::TOO_MANY_REQUESTS => {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    None
                }
                Some(r) if r.status() == reqwest::StatusCode::FORBIDDEN => {
                    // The CSRF token of a session is stable; re-read it anyway.
                    token = csrf(
                        &client
                            .get(format!("{base}/dashboard"))
                            .send()
                            .await?
                            .text()
                            .await?,
                    );
                    None
                }
                _ => None,
            };
            if let Some(id) = created {
                self.ledger.acknowledged.lock().unwrap().insert(id);
                let submitted = Instant::now();
                loop {
                    tokio::time::sleep(Duration::from_millis(400)).await;
                    let r = timed(
                        &recorder,
                        "GET submission",
                        client.get(format!("{base}/api/submissions/{id}")),
                    )
                    .await;
                    let done = match r {
                        Some(r) if r.status().is_success() => {
                            r.json::<Value>().await.is_ok_and(|v| v["status"] == "done")
                        }
                        _ => false,
                    };
                    if done {
                        recorder.record("submit → verdict", submitted.elapsed(), true);
                        break;
                    }
                    if submitted.elapsed() > Duration::from_secs(240) {
                        break;
                    }
                }
            }
            timed(
                &recorder,
                "GET history",
                client.get(format!("{base}/exercises/{EXERCISE}/history")),
            )
            .await;
            let think = 300 + self.next() % 900;
            tokio::time::sleep(Duration::from_millis(think)).await;
        }
        Ok(())
    }

    async fn resync_draft(&self, client: &reqwest::Client, version: &mut i64) {
        for _ in 0..60 {
            let response = client
                .get(format!("{}/api/exercises/{EXERCISE}/draft", self.base))
                .send()
                .await;
            if let Ok(r) = response
                && r.status().is_success()
                && let Ok(draft) = r.json::<Value>().await
            {
                *version = draft["version"].as_i64().unwrap_or(*version);
                if let Some(code) = draft["code"].as_str()
                    && *version > 0
                {
                    self.ledger
                        .drafts
                        .lock()
                        .unwrap()
                        .insert(self.user_id, (code.to_string(), *version));
                }
                return;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}
