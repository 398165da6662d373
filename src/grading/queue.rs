//! The grading queue, kept in PostgreSQL: a submission row is the job.
//!
//! Workers on any machine claim the oldest waiting job with
//! `FOR UPDATE SKIP LOCKED`, so two workers never take the same row and
//! none waits for another. A claim is a *lease*: the worker renews it while
//! it grades, and a job whose lease runs out (its worker died) becomes
//! claimable again. The verdict is written, and the job ended, by one
//! `UPDATE … WHERE lease_owner = me`: a worker that lost its lease cannot
//! finish a job someone else now owns, so every job ends exactly once.
//!
//! `NOTIFY` wakes idle workers when a job arrives ([`JOBS_CHANNEL`]) and tells
//! web nodes when one progresses ([`EVENTS_CHANNEL`]).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Postgres, Transaction};

use super::judge::counts;
use super::verdict::{Status, Verdict};

/// Channel that announces new jobs to workers (payload: the job id).
pub const JOBS_CHANNEL: &str = "lockstep_jobs";
/// Channel that announces job progress to web nodes (payload: [`JobEvent`] JSON).
pub const EVENTS_CHANNEL: &str = "lockstep_events";
/// A job that has been claimed this many times without finishing ends as an internal error.
pub const MAX_ATTEMPTS: i32 = 3;

/// What is asked of the grader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobMode {
    /// Grade against every test.
    Submit,
    /// Grade against the visible tests only.
    Visible,
    /// Run a program (a lesson's example or a scratch pad).
    Run,
}

impl JobMode {
    fn as_str(self) -> &'static str {
        match self {
            JobMode::Submit => "submit",
            JobMode::Visible => "visible",
            JobMode::Run => "run",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "submit" => Some(JobMode::Submit),
            "visible" => Some(JobMode::Visible),
            "run" => Some(JobMode::Run),
            _ => None,
        }
    }
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    /// Who submitted it (None for anonymous program runs).
    pub user_id: Option<i64>,
    /// What to do.
    pub mode: JobMode,
    /// The exercise (None for programs).
    pub exercise_id: Option<&'a str>,
    /// The exercise's content hash at submission time.
    pub exercise_hash: Option<&'a str>,
    /// The learner's code.
    pub code: &'a str,
}

/// A job a worker holds the lease of.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    /// The submission id.
    pub id: i64,
    /// Who submitted it.
    pub user_id: Option<i64>,
    /// What to do.
    pub mode: JobMode,
    /// The exercise, for graded jobs.
    pub exercise_id: Option<String>,
    /// The code.
    pub code: String,
    /// How many times it has been claimed, this time included.
    pub attempts: i32,
    /// Milliseconds it waited before this claim.
    pub queued_ms: i64,
}

/// A progress announcement, as sent on [`EVENTS_CHANNEL`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct JobEvent {
    /// The submission.
    pub id: i64,
    /// Its author.
    pub user_id: Option<i64>,
    /// The exercise, if any.
    pub exercise_id: Option<String>,
    /// queued, running or done.
    pub status: String,
    /// compiling / running while in progress.
    pub phase: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ClaimRow {
    id: i64,
    user_id: Option<i64>,
    mode: String,
    exercise_id: Option<String>,
    code: String,
    attempts: i32,
    queued_ms: f64,
}

/// Adds a job and wakes a worker; returns its id.
pub async fn enqueue(db: &PgPool, job: NewJob<'_>) -> sqlx::Result<i64> {
    let mut tx = db.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO submissions (user_id, mode, exercise_id, exercise_hash, code)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(job.user_id)
    .bind(job.mode.as_str())
    .bind(job.exercise_id)
    .bind(job.exercise_hash)
    .bind(job.code)
    .fetch_one(&mut *tx)
    .await?;
    notify(&mut tx, JOBS_CHANNEL, &id.to_string()).await?;
    let event = JobEvent {
        id,
        user_id: job.user_id,
        exercise_id: job.exercise_id.map(str::to_string),
        status: "queued".into(),
        phase: None,
    };
    notify_event(&mut tx, &event).await?;
    tx.commit().await?;
    Ok(id)
}

/// Claims the oldest waiting job (or one whose lease expired) for `worker`.
pub async fn claim(db: &PgPool, worker: &str, lease: Duration) -> sqlx::Result<Option<ClaimedJob>> {
    let row: Option<ClaimRow> = sqlx::query_as(
        "UPDATE submissions
            SET status = 'running', phase = 'compiling', attempts = attempts + 1,
                lease_owner = $1, lease_expires_at = now() + make_interval(secs => $2),
                started_at = coalesce(started_at, now())
          WHERE id = (SELECT id FROM submissions
                       WHERE status = 'queued' OR (status = 'running' AND lease_expires_at < now())
                       ORDER BY id
                       FOR UPDATE SKIP LOCKED
                       LIMIT 1)
      RETURNING id, user_id, mode, exercise_id, code, attempts,
                extract(epoch FROM (now() - created_at))::float8 * 1000 AS queued_ms",
    )
    .bind(worker)
    .bind(lease.as_secs_f64())
    .fetch_optional(db)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let job = ClaimedJob {
        id: row.id,
        user_id: row.user_id,
        mode: JobMode::parse(&row.mode).unwrap_or(JobMode::Run),
        exercise_id: row.exercise_id,
        code: row.code,
        attempts: row.attempts,
        queued_ms: row.queued_ms as i64,
    };
    let mut tx = db.begin().await?;
    notify_event(&mut tx, &job.event("running", Some("compiling"))).await?;
    tx.commit().await?;
    Ok(Some(job))
}

/// Extends `worker`'s lease on `id`; false if the lease was lost.
pub async fn renew(db: &PgPool, id: i64, worker: &str, lease: Duration) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "UPDATE submissions SET lease_expires_at = now() + make_interval(secs => $3)
          WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
    )
    .bind(id)
    .bind(worker)
    .bind(lease.as_secs_f64())
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Records and announces the job's phase (`compiling`, `running`).
pub async fn set_phase(db: &PgPool, job: &ClaimedJob, phase: &str) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE submissions SET phase = $2 WHERE id = $1 AND status = 'running'")
        .bind(job.id)
        .bind(phase)
        .execute(&mut *tx)
        .await?;
    notify_event(&mut tx, &job.event("running", Some(phase))).await?;
    tx.commit().await
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
    let status = match verdict.status {
        Status::Pass => "pass",
        Status::Fail => "fail",
        Status::Error => "error",
    };
    let mut tx = db.begin().await?;
    let ended = sqlx::query(
        "UPDATE submissions
            SET status = 'done', phase = NULL, verdict = $3, verdict_status = $4,
                tests_passed = $5, tests_total = $6, finished_at = now(),
                lease_owner = NULL, lease_expires_at = NULL
          WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
    )
    .bind(job.id)
    .bind(worker)
    .bind(sqlx::types::Json(verdict))
    .bind(status)
    .bind(passed)
    .bind(total)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !ended {
        tx.rollback().await?;
        return Ok(false);
    }
    if let (JobMode::Submit, Some(user_id), Some(exercise_id)) =
        (job.mode, job.user_id, &job.exercise_id)
    {
        sqlx::query(
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
        )
        .bind(user_id)
        .bind(exercise_id)
        .bind(passed)
        .bind(total)
        .bind(verdict.status == Status::Pass)
        .bind(job.id)
        .execute(&mut *tx)
        .await?;
    }
    notify_event(&mut tx, &job.event("done", None)).await?;
    tx.commit().await?;
    Ok(true)
}

/// Hands `worker`'s unfinished jobs back to the queue (on shutdown): the
/// attempt does not count against them.
pub async fn release(db: &PgPool, worker: &str) -> sqlx::Result<u64> {
    let result = sqlx::query(
        "UPDATE submissions
            SET status = 'queued', phase = NULL, lease_owner = NULL, lease_expires_at = NULL,
                attempts = greatest(attempts - 1, 0)
          WHERE lease_owner = $1 AND status = 'running'",
    )
    .bind(worker)
    .execute(db)
    .await?;
    if result.rows_affected() > 0 {
        sqlx::query("SELECT pg_notify($1, 'released')")
            .bind(JOBS_CHANNEL)
            .execute(db)
            .await?;
    }
    Ok(result.rows_affected())
}

impl ClaimedJob {
    fn event(&self, status: &str, phase: Option<&str>) -> JobEvent {
        JobEvent {
            id: self.id,
            user_id: self.user_id,
            exercise_id: self.exercise_id.clone(),
            status: status.into(),
            phase: phase.map(str::to_string),
        }
    }
}

async fn notify(
    tx: &mut Transaction<'_, Postgres>,
    channel: &str,
    payload: &str,
) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(channel)
        .bind(payload)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn notify_event(tx: &mut Transaction<'_, Postgres>, event: &JobEvent) -> sqlx::Result<()> {
    let payload = serde_json::to_string(event).unwrap_or_default();
    notify(tx, EVENTS_CHANNEL, &payload).await
}
