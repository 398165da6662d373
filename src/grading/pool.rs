//! The grading pool: a few worker tasks that take jobs from the queue, grade
//! them in the sandbox and record the verdict.
//!
//! Idle workers sleep until PostgreSQL announces a job (`LISTEN`), with a slow
//! poll as a safety net for missed notifications and expired leases; there
//! is no busy polling. While a job is graded (on a blocking thread: the
//! sandbox is synchronous), a small task renews its lease and another
//! announces its phase; both belong to the job and end with it. On shutdown the
//! pool stops claiming and hands unfinished jobs back to the queue.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tracing::Instrument;

use super::job::{Mode, Phase};
use super::judge::Judge;
use super::queue::{self, ClaimedJob, JOBS_CHANNEL, MAX_ATTEMPTS};
use super::verdict::{Reason, Verdict};
use crate::curriculum::Programme;
use crate::metrics::{GradedJob, Metrics};
use crate::shutdown::{AbortOnDrop, Shutdown};

/// How the pool runs.
#[derive(Debug, Clone, Copy)]
pub struct PoolConfig {
    /// Worker tasks (jobs graded at once).
    pub workers: usize,
    /// How long a claim lasts without renewal.
    pub lease: Duration,
    /// Safety-net poll interval when no notification arrives.
    pub idle_poll: Duration,
}

impl PoolConfig {
    /// `workers` workers with production timings.
    pub fn with_workers(workers: usize) -> Self {
        Self {
            workers,
            lease: Duration::from_secs(30),
            idle_poll: Duration::from_secs(5),
        }
    }
}

/// How the pool ended: what its workers handed back, and whether any of
/// them died on the way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drained {
    /// Unfinished jobs handed back to the queue for another worker.
    pub jobs_handed_back: u64,
    /// Workers that panicked (their jobs come back when their leases expire).
    pub workers_panicked: usize,
}

/// What every worker shares.
struct Shared {
    db: PgPool,
    judge: Judge,
    programme: Arc<Programme>,
    config: PoolConfig,
    wake: Notify,
    shutdown: Shutdown,
    metrics: Arc<Metrics>,
}

/// Runs the pool until `shutdown` begins, then releases unfinished jobs and
/// says what it handed back.
pub async fn run(
    db: PgPool,
    judge: Judge,
    programme: Arc<Programme>,
    config: PoolConfig,
    metrics: Arc<Metrics>,
    shutdown: Shutdown,
) -> Result<Drained> {
    let mut judge = judge;
    // Each worker's next sandboxes are built while its current job runs
    // (two each: short jobs, such as runs of prebuilt examples, come fast).
    judge.keep_warm(config.workers * 2);
    let shared = Arc::new(Shared {
        db,
        judge,
        programme,
        config,
        wake: Notify::new(),
        shutdown,
        metrics,
    });
    let base = format!(
        "{}/{}/{}",
        hostname(),
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let mut workers = JoinSet::new();
    for index in 0..config.workers {
        workers.spawn(work(shared.clone(), format!("{base}/{index}")));
    }
    // The listener only feeds the workers: it lives exactly as long as they do.
    let _listener = AbortOnDrop::spawn(listen(shared.clone()));
    tracing::info!(workers = config.workers, "grading pool started");
    let mut drained = Drained::default();
    while let Some(result) = workers.join_next().await {
        match result {
            Ok(handed_back) => drained.jobs_handed_back += handed_back,
            Err(error) => {
                tracing::error!(%error, "a grading worker panicked");
                drained.workers_panicked += 1;
            }
        }
    }
    tracing::info!(
        jobs_handed_back = drained.jobs_handed_back,
        "grading pool stopped"
    );
    Ok(drained)
}

/// Turns `NOTIFY lockstep_jobs` into wake-ups, reconnecting after database outages.
async fn listen(shared: Arc<Shared>) {
    loop {
        let mut listener = match PgListener::connect_with(&shared.db).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, "cannot LISTEN for jobs; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(error) = listener.listen(JOBS_CHANNEL).await {
            tracing::warn!(%error, "cannot LISTEN for jobs; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        // Something may have arrived while we were not listening.
        shared.wake.notify_waiters();
        loop {
            match listener.try_recv().await {
                Ok(Some(_)) => shared.wake.notify_waiters(),
                Ok(None) => {
                    // The connection dropped and sqlx reconnected: catch up.
                    shared.wake.notify_waiters();
                }
                Err(error) => {
                    tracing::warn!(%error, "lost the job notification channel");
                    break;
                }
            }
        }
    }
}

/// One worker: claim, grade, finish, until shutdown; then hands back what it
/// held and returns how many jobs that was.
async fn work(shared: Arc<Shared>, worker: String) -> u64 {
    let _running = shared.metrics.worker_started();
    while !shared.shutdown.is_cancelled() {
        // Register interest before looking, so a job announced in between still wakes us.
        let woken = shared.wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        match queue::claim(&shared.db, &worker, shared.config.lease).await {
            Ok(Some(job)) => {
                // Dropping `process` on shutdown drops the job's own tasks with it.
                tokio::select! {
                    () = process(&shared, &worker, job) => {}
                    () = shared.shutdown.cancelled() => break,
                }
            }
            Ok(None) => {
                tokio::select! {
                    () = woken => {}
                    () = tokio::time::sleep(shared.config.idle_poll) => {}
                    () = shared.shutdown.cancelled() => break,
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot claim jobs (database down?); retrying");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    () = shared.shutdown.cancelled() => break,
                }
            }
        }
    }
    match queue::release(&shared.db, &worker).await {
        Ok(0) => 0,
        Ok(n) => {
            tracing::info!(worker, jobs = n, "handed unfinished jobs back to the queue");
            n
        }
        Err(error) => {
            tracing::warn!(%error, "could not hand jobs back; their leases will expire");
            0
        }
    }
}

/// Grades one claimed job and records the verdict.
async fn process(shared: &Arc<Shared>, worker: &str, job: ClaimedJob) {
    // `instrument`, not `span.enter()`: an entered span must not be held across `.await`.
    let span = tracing::info_span!("job", id = job.id, mode = ?job.mode, attempt = job.attempts);
    process_in_span(shared, worker, job).instrument(span).await
}

async fn process_in_span(shared: &Arc<Shared>, worker: &str, job: ClaimedJob) {
    let mut verdict = if job.attempts > MAX_ATTEMPTS {
        Verdict::internal(format!(
            "grading failed {MAX_ATTEMPTS} times; please submit again"
        ))
    } else {
        // Owned by this job: aborted when grading ends, or when `process` is
        // dropped because the pool is shutting down.
        let _renewer = AbortOnDrop::spawn(renew_lease(shared.clone(), job.id, worker.to_string()));
        grade(shared, &job, worker).await
    };
    verdict.duration_ms.queue = job.queued_ms.max(0) as u64;
    verdict.duration_ms.total += verdict.duration_ms.queue;
    // The verdict is worth retrying for through a short database outage.
    for attempt in 0..30 {
        match queue::finish(&shared.db, &job, worker, &verdict).await {
            Ok(true) => {
                shared.metrics.observe_verdict(GradedJob {
                    status: verdict.status.as_str(),
                    reason: verdict.reason.map(Reason::as_str),
                    queue_ms: verdict.duration_ms.queue,
                    compile_ms: verdict.duration_ms.compile,
                    run_ms: verdict.duration_ms.run,
                    total_ms: verdict.duration_ms.total,
                });
                tracing::info!(status = ?verdict.status, ms = verdict.duration_ms.total, "job graded");
                return;
            }
            Ok(false) => {
                tracing::warn!("lost the lease before finishing; another worker owns the job now");
                return;
            }
            Err(error) => {
                tracing::warn!(%error, attempt, "cannot record the verdict yet");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Runs the job in the sandbox (on a blocking thread: the sandbox is
/// synchronous) while a task owned by the job announces compiling → running.
///
/// A blocking thread cannot be aborted: if the job is dropped mid-way, the
/// sandbox still ends it within the exercise's wall-time limit, and its
/// verdict is discarded.
async fn grade(shared: &Arc<Shared>, job: &ClaimedJob, worker: &str) -> Verdict {
    let judge = shared.judge.clone();
    let programme = shared.programme.clone();
    let (progress, phases) = tokio::sync::watch::channel(Phase::Compiling);
    let mut announcer = AbortOnDrop::spawn(announce_phases(
        shared.db.clone(),
        job.clone(),
        worker.to_string(),
        phases,
    ));
    let job = job.clone();
    let graded =
        tokio::task::spawn_blocking(move || match (job.mode, job.exercise_id.as_deref()) {
            (Mode::Run, _) => judge.run_program(&job.code, Some(&progress)),
            (mode, Some(exercise_id)) => match programme.exercise(exercise_id) {
                Some(exercise) => judge.grade(exercise, &job.code, mode, Some(&progress)),
                None => Verdict::internal(format!("the exercise {exercise_id:?} no longer exists")),
            },
            (_, None) => Verdict::internal("a graded job without an exercise"),
        });
    let verdict = graded
        .await
        .unwrap_or_else(|error| Verdict::internal(format!("the grader crashed: {error}")));
    // The sender went with the blocking task: the announcer ends once it has
    // announced every step, so "done" is never overtaken by a late "running".
    announcer.finished().await;
    verdict
}

/// Announces each change of phase as the sandbox reaches a step, for as
/// long as this worker holds the job.
async fn announce_phases(
    db: PgPool,
    job: ClaimedJob,
    worker: String,
    mut phases: tokio::sync::watch::Receiver<Phase>,
) {
    // The watch holds only the latest phase, so nothing queues up; it ends
    // when the sandbox (the sender) is done.
    let mut current = Phase::Compiling;
    while phases.changed().await.is_ok() {
        let phase = *phases.borrow_and_update();
        if phase != current {
            current = phase;
            match queue::set_phase(&db, &job, &worker, phase).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::debug!("lease lost: not announcing the phase");
                    return;
                }
                Err(error) => tracing::debug!(%error, "cannot announce the phase"),
            }
        }
    }
}

async fn renew_lease(shared: Arc<Shared>, id: i64, worker: String) {
    let mut interval = tokio::time::interval(shared.config.lease / 3);
    interval.tick().await;
    loop {
        interval.tick().await;
        match queue::renew(&shared.db, id, &worker, shared.config.lease).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(id, "lease lost while grading");
                return;
            }
            Err(error) => tracing::warn!(%error, id, "cannot renew the lease"),
        }
    }
}

fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|name| name.into_string().ok())
        .unwrap_or_else(|| "host".into())
}
