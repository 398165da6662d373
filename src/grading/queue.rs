//! The grading queue, kept in PostgreSQL: a submission row is the job.
//!
//! Workers on any machine claim the oldest waiting job with
//! `FOR UPDATE SKIP LOCKED`, so two workers never take the same row and
//! none waits for another. A claim is a *lease*: the worker renews it while
//! it grades, and a job whose lease runs out (its worker died) becomes
//! claimable again. Everything a worker does to a job it holds — renew the
//! lease ([`renew`]), report its phase ([`set_phase`]), write the verdict and
//! end it ([`finish`]) — is one `UPDATE … WHERE lease_owner = me`: a worker
//! that lost its lease can neither finish a job someone else now owns nor
//! report progress for it, so every job ends exactly once and its progress
//! comes from one worker.
//!
//! The words stored in `status`, `phase` and `mode` are the vocabulary of
//! [`super::job`].
//!
//! `NOTIFY` wakes idle workers when a job arrives ([`JOBS_CHANNEL`]) and tells
//! web nodes when one progresses ([`EVENTS_CHANNEL`]).
//!
//! Fair use: one learner may have only a few jobs queued or running at once,
//! and the queue as a whole holds a bounded number ([`JobLimits`], checked
//! in the transaction that inserts the job, under a per-learner lock, so
//! parallel requests cannot all slip through). Workers serve learners in
//! turn: each learner's oldest job first, then everyone's second, so one
//! account cannot make a cohort wait behind it.

use std::time::Duration;

use sqlx::{PgPool, Postgres, Transaction};

use super::job::{self, JobState, JobStatus, Mode, Outcome, Phase};
use super::judge::counts;
use super::verdict::Verdict;

/// Channel that announces new jobs to workers (payload: the job id).
pub const JOBS_CHANNEL: &str = "lockstep_jobs";
/// Channel that announces job progress to web nodes (payload: [`job::JobEvent`] JSON).
pub const EVENTS_CHANNEL: &str = "lockstep_events";
/// A job that has been claimed this many times without finishing ends as an internal error.
pub const MAX_ATTEMPTS: i32 = 3;

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    /// Who submitted it (None for anonymous program runs).
    pub user_id: Option<i64>,
    /// What to do.
    pub mode: Mode,
    /// The exercise (None for programs).
    pub exercise_id: Option<&'a str>,
    /// The exercise's content hash at submission time.
    pub exercise_hash: Option<&'a str>,
    /// The learner's code.
    pub code: &'a str,
}

/// The queue's fair-use rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobLimits {
    /// Jobs one learner may have queued or running at once.
    pub per_learner: i64,
    /// Jobs that may wait in the queue at once, all learners together.
    pub queued: i64,
}

impl Default for JobLimits {
    fn default() -> Self {
        Self {
            per_learner: 3,
            queued: 500,
        }
    }
}

impl JobLimits {
    /// No limits: for the operator's own jobs (benchmarks, tests).
    pub const NONE: JobLimits = JobLimits {
        per_learner: i64::MAX,
        queued: i64::MAX,
    };
}

/// Why a job was not queued.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// The learner already has as many jobs in flight as allowed.
    #[error(
        "you already have {0} jobs queued or running: wait for one of them to finish, then try again"
    )]
    LearnerBusy(i64),
    /// The queue is full.
    #[error("the grader is busy ({0} jobs waiting): try again in a minute")]
    QueueFull(i64),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Namespace of the per-learner advisory locks taken while enqueueing (the
/// high bits of the lock key; the learner's id is the low bits).
const ENQUEUE_LOCK: i64 = 0x4c53_0000_0000_0000;

/// A job a worker holds the lease of.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    /// The submission id.
    pub id: i64,
    /// Who submitted it.
    pub user_id: Option<i64>,
    /// What to do.
    pub mode: Mode,
    /// The exercise, for graded jobs.
    pub exercise_id: Option<String>,
    /// The code.
    pub code: String,
    /// How many times it has been claimed, this time included.
    pub attempts: i32,
    /// Milliseconds it waited before this claim.
    pub queued_ms: i64,
}

/// A job as its author (and the API) sees it.
#[derive(Debug, Clone)]
pub struct JobRecord {
    /// The submission id.
    pub id: i64,
    /// Who submitted it (None for anonymous program runs).
    pub user_id: Option<i64>,
    /// Where it is.
    pub status: JobStatus,
    /// What it is doing, while running.
    pub phase: Option<Phase>,
    /// How it came out, once done.
    pub outcome: Option<Outcome>,
    /// What was asked.
    pub mode: Mode,
    /// The exercise, for graded jobs.
    pub exercise_id: Option<String>,
    /// The exercise version it was submitted against.
    pub exercise_hash: Option<String>,
    /// The verdict (the JSON of [`Verdict`]), once done.
    pub verdict: Option<serde_json::Value>,
    /// When it was submitted.
    pub created_at: time::OffsetDateTime,
    /// When it ended.
    pub finished_at: Option<time::OffsetDateTime>,
}

/// The job `id`, if it exists.
pub async fn find(db: &PgPool, id: i64) -> sqlx::Result<Option<JobRecord>> {
    sqlx::query_as!(
        JobRecord,
        r#"SELECT id, user_id, status AS "status: JobStatus", phase AS "phase: Phase",
                  verdict_status AS "outcome: Outcome", mode AS "mode: Mode", exercise_id, exercise_hash, verdict, created_at, finished_at
             FROM submissions WHERE id = $1"#,
        id,
    )
    .fetch_optional(db)
    .await
}

/// Adds a job and wakes a worker; returns its id.
pub async fn enqueue(db: &PgPool, job: NewJob<'_>, limits: JobLimits) -> Result<i64, Refused> {
    let mut tx = db.begin().await?;
    if let Some(user_id) = job.user_id {
        // Held until commit: a second request of the same learner counts
        // after this one's row is in.
        sqlx::query!(
            "SELECT pg_advisory_xact_lock($1)",
            ENQUEUE_LOCK | (user_id & 0xffff_ffff_ffff)
        )
        .execute(&mut *tx)
        .await?;
    }
    // Read through the partial index of unfinished jobs.
    let load = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE user_id = $1) AS "mine!",
                  count(*) FILTER (WHERE status = 'queued') AS "queued!"
             FROM submissions
            WHERE status <> 'done'"#,
        job.user_id
    )
    .fetch_one(&mut *tx)
    .await?;
    if job.user_id.is_some() && load.mine >= limits.per_learner {
        return Err(Refused::LearnerBusy(load.mine));
    }
    if load.queued >= limits.queued {
        return Err(Refused::QueueFull(load.queued));
    }
    let id = sqlx::query_scalar!(
        "INSERT INTO submissions (user_id, mode, exercise_id, exercise_hash, code)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
        job.user_id,
        job.mode as Mode,
        job.exercise_id,
        job.exercise_hash,
        job.code,
    )
    .fetch_one(&mut *tx)
    .await?;
    notify(&mut tx, JOBS_CHANNEL, &id.to_string()).await?;
    let event = job::JobEvent {
        id,
        user_id: job.user_id,
        exercise_id: job.exercise_id.map(str::to_string),
        state: JobState::Queued,
    };
    notify_event(&mut tx, &event).await?;
    tx.commit().await?;
    Ok(id)
}

/// Claims the oldest waiting job (or one whose lease expired) for `worker`.
pub async fn claim(db: &PgPool, worker: &str, lease: Duration) -> sqlx::Result<Option<ClaimedJob>> {
    let claimed = JobState::Running {
        phase: Phase::Compiling,
    };
    // The claimable test is on `s`, the locked row, not on the numbered
    // copy: a row another worker claimed while this statement ran is
    // re-checked in its new version (PostgreSQL's EvalPlanQual) and skipped,
    // where a test on the copy would still see it queued and claim it twice.
    // Learners in turn: `turn` numbers each learner's unfinished jobs
    // (running ones first, being older), so everyone's first job goes
    // before anyone's second. The states are spelled out, not bound: the
    // planner can then answer from the partial index `submissions_pending`
    // (`status <> 'done'`) instead of walking every finished job.
    let job = sqlx::query_as!(
        ClaimedJob,
        r#"UPDATE submissions
              SET status = $3, phase = $4, attempts = attempts + 1,
                  lease_owner = $1, lease_expires_at = now() + make_interval(secs => $2),
                  started_at = coalesce(started_at, now())
            WHERE id = (SELECT s.id
                          FROM submissions s
                          JOIN (SELECT id, status, lease_expires_at,
                                       row_number() OVER (PARTITION BY user_id ORDER BY id) AS turn
                                  FROM submissions
                                 WHERE status <> 'done') pending ON pending.id = s.id
                         WHERE s.status = 'queued'
                            OR (s.status = 'running' AND s.lease_expires_at < now())
                         ORDER BY pending.turn, s.id
                         FOR UPDATE OF s SKIP LOCKED
                         LIMIT 1)
        RETURNING id, user_id, mode AS "mode: Mode", exercise_id, code, attempts,
                  floor(extract(epoch FROM (now() - created_at)) * 1000)::int8 AS "queued_ms!""#,
        worker,
        lease.as_secs_f64(),
        claimed.status() as JobStatus,
        claimed.phase() as Option<Phase>,
    )
    .fetch_optional(db)
    .await?;
    let Some(job) = job else {
        return Ok(None);
    };
    let mut tx = db.begin().await?;
    notify_event(&mut tx, &job.event(claimed)).await?;
    tx.commit().await?;
    Ok(Some(job))
}

/// Extends `worker`'s lease on `id`; false if the lease was lost.
pub async fn renew(db: &PgPool, id: i64, worker: &str, lease: Duration) -> sqlx::Result<bool> {
    let result = sqlx::query!(
        "UPDATE submissions SET lease_expires_at = now() + make_interval(secs => $3)
          WHERE id = $1 AND lease_owner = $2 AND status = $4",
        id,
        worker,
        lease.as_secs_f64(),
        JobStatus::Running as JobStatus,
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Records and announces the job's phase, if `worker` still holds it; false
/// (and nothing announced) if the lease was lost: a worker that lost its job
/// must not report progress for the one who has it now.
pub async fn set_phase(
    db: &PgPool,
    job: &ClaimedJob,
    worker: &str,
    phase: Phase,
) -> sqlx::Result<bool> {
    let mut tx = db.begin().await?;
    let changed = sqlx::query!(
        "UPDATE submissions SET phase = $3 WHERE id = $1 AND lease_owner = $2 AND status = $4",
        job.id,
        worker,
        phase as Phase,
        JobStatus::Running as JobStatus,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !changed {
        tx.rollback().await?;
        return Ok(false);
    }
    notify_event(&mut tx, &job.event(JobState::Running { phase })).await?;
    tx.commit().await?;
    Ok(true)
}

/// Records the verdict and ends the job, if `worker` still holds it; keeps
/// the learner's progress row current in the same transaction.
pub async fn finish(
    db: &PgPool,
    job: &ClaimedJob,
    worker: &str,
    verdict: &Verdict,
) -> sqlx::Result<bool> {
    let (passed, total) = counts(verdict);
    let outcome = Outcome::from(verdict.status);
    let mut tx = db.begin().await?;
    let ended = sqlx::query!(
        "UPDATE submissions
            SET status = $7, phase = NULL, verdict = $3, verdict_status = $4,
                tests_passed = $5, tests_total = $6, finished_at = now(),
                lease_owner = NULL, lease_expires_at = NULL
          WHERE id = $1 AND lease_owner = $2 AND status = $8",
        job.id,
        worker,
        sqlx::types::Json(verdict) as _,
        outcome as Outcome,
        passed,
        total,
        JobStatus::Done as JobStatus,
        JobStatus::Running as JobStatus,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !ended {
        tx.rollback().await?;
        return Ok(false);
    }
    if let (Mode::Submit, Some(user_id), Some(exercise_id)) =
        (job.mode, job.user_id, &job.exercise_id)
    {
        sqlx::query!(
            "INSERT INTO exercise_progress AS p
                    (user_id, exercise_id, attempts, best_passed, best_total, passed_at, passed_hash, last_submission_id, last_activity_at)
             SELECT $1, $2, 1, $3, $4, CASE WHEN $5 THEN now() END, CASE WHEN $5 THEN s.exercise_hash END, $6, now()
               FROM submissions s WHERE s.id = $6
             ON CONFLICT (user_id, exercise_id) DO UPDATE SET
                attempts = p.attempts + 1,
                best_passed = greatest(p.best_passed, excluded.best_passed),
                best_total = greatest(p.best_total, excluded.best_total),
                passed_at = coalesce(p.passed_at, excluded.passed_at),
                passed_hash = coalesce(excluded.passed_hash, p.passed_hash),
                last_submission_id = excluded.last_submission_id,
                last_activity_at = now()",
            user_id,
            exercise_id,
            passed,
            total,
            outcome == Outcome::Pass,
            job.id,
        )
        .execute(&mut *tx)
        .await?;
    }
    notify_event(&mut tx, &job.event(JobState::Done)).await?;
    tx.commit().await?;
    Ok(true)
}

/// Hands `worker`'s unfinished jobs back to the queue (on shutdown): the
/// attempt does not count against them.
pub async fn release(db: &PgPool, worker: &str) -> sqlx::Result<u64> {
    let result = sqlx::query!(
        "UPDATE submissions
            SET status = $2, phase = NULL, lease_owner = NULL, lease_expires_at = NULL,
                attempts = greatest(attempts - 1, 0)
          WHERE lease_owner = $1 AND status = $3",
        worker,
        JobStatus::Queued as JobStatus,
        JobStatus::Running as JobStatus,
    )
    .execute(db)
    .await?;
    if result.rows_affected() > 0 {
        sqlx::query!("SELECT FROM pg_notify($1, 'released')", JOBS_CHANNEL)
            .execute(db)
            .await?;
    }
    Ok(result.rows_affected())
}

impl ClaimedJob {
    fn event(&self, state: JobState) -> job::JobEvent {
        job::JobEvent {
            id: self.id,
            user_id: self.user_id,
            exercise_id: self.exercise_id.clone(),
            state,
        }
    }
}

async fn notify(
    tx: &mut Transaction<'_, Postgres>,
    channel: &str,
    payload: &str,
) -> sqlx::Result<()> {
    // `SELECT FROM`: the function returns `void`, which no Rust type reads.
    sqlx::query!("SELECT FROM pg_notify($1, $2)", channel, payload)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn notify_event(
    tx: &mut Transaction<'_, Postgres>,
    event: &job::JobEvent,
) -> sqlx::Result<()> {
    let payload = serde_json::to_string(event).unwrap_or_default();
    notify(tx, EVENTS_CHANNEL, &payload).await
}
