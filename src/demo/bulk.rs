//! The seeded history's bulk writes: one `UNNEST` insert per table and
//! batch, so hundreds of thousands of rows cost a handful of round trips.

use anyhow::Result;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::SeedReport;
use crate::grading::job::{JobStatus, Mode, Outcome};
use crate::grading::verdict::Verdict;

/// A simulated submission, graded and done.
pub(super) struct PendingSubmission {
    pub(super) user_id: i64,
    pub(super) mode: Mode,
    pub(super) exercise_id: String,
    pub(super) exercise_hash: String,
    pub(super) code: String,
    pub(super) verdict: Verdict,
    pub(super) created_at: OffsetDateTime,
    pub(super) finished_at: OffsetDateTime,
}

/// A learner's simulated `exercise_progress` row.
pub(super) struct PendingProgress {
    pub(super) user_id: i64,
    pub(super) exercise_id: String,
    pub(super) first_opened_at: OffsetDateTime,
    pub(super) attempts: i32,
    pub(super) best_passed: i32,
    pub(super) best_total: i32,
    pub(super) passed_at: Option<OffsetDateTime>,
    pub(super) passed_hash: Option<String>,
    pub(super) last_submission: Option<usize>,
    pub(super) last_activity_at: OffsetDateTime,
}

/// A lesson visit: learner, module, lesson, first and last visit.
pub(super) type Visit = (i64, String, String, OffsetDateTime, OffsetDateTime);

/// Rows waiting to be written, for whole learners only (a learner's
/// progress rows point at their submissions' ids).
#[derive(Default)]
pub(super) struct Batch {
    pub(super) members: Vec<(i64, OffsetDateTime)>,
    pub(super) visits: Vec<Visit>,
    pub(super) hints: Vec<(i64, String, i32, OffsetDateTime)>,
    pub(super) submissions: Vec<PendingSubmission>,
    pub(super) progress: Vec<PendingProgress>,
}

impl Batch {
    /// Writes the batch in one round trip per table and empties it.
    pub(super) async fn write(
        &mut self,
        tx: &mut sqlx::PgConnection,
        cohort_id: i64,
        report: &mut SeedReport,
    ) -> Result<()> {
        let batch = std::mem::take(self);
        write_members(tx, cohort_id, &batch.members).await?;
        let ids = write_submissions(tx, &batch.submissions).await?;
        write_progress(tx, &batch.progress, &ids).await?;
        write_visits(tx, &batch.visits).await?;
        write_hints(tx, &batch.hints).await?;
        report.submissions += batch.submissions.len();
        report.lesson_visits += batch.visits.len();
        report.hint_reveals += batch.hints.len();
        Ok(())
    }
}

/// Joins the learners to the cohort, each at their simulated time.
async fn write_members(
    tx: &mut sqlx::PgConnection,
    cohort_id: i64,
    members: &[(i64, OffsetDateTime)],
) -> Result<()> {
    let (users, joined): (Vec<i64>, Vec<OffsetDateTime>) = members.iter().copied().unzip();
    sqlx::query!(
        "INSERT INTO cohort_members (cohort_id, user_id, joined_at)
         SELECT $1, u, j FROM UNNEST($2::bigint[], $3::timestamptz[]) AS t(u, j)",
        cohort_id,
        &users,
        &joined,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Inserts the submissions, graded and done; returns their ids, in order.
async fn write_submissions(
    tx: &mut sqlx::PgConnection,
    submissions: &[PendingSubmission],
) -> Result<Vec<i64>> {
    // Ids first, in time order per learner, so "the previous submission"
    // is the one with the next lower id, as with real grading.
    let mut ids: Vec<i64> = sqlx::query_scalar!(
        r#"SELECT nextval(pg_get_serial_sequence('submissions', 'id')) AS "id!"
             FROM generate_series(1, $1)"#,
        submissions.len() as i64,
    )
    .fetch_all(&mut *tx)
    .await?;
    ids.sort_unstable();
    let mut columns = SubmissionColumns::default();
    for (submission, id) in submissions.iter().zip(&ids) {
        let (passed, total) = crate::grading::judge::counts(&submission.verdict);
        columns.id.push(*id);
        columns.user_id.push(submission.user_id);
        columns.mode.push(submission.mode);
        columns.exercise_id.push(submission.exercise_id.clone());
        columns.exercise_hash.push(submission.exercise_hash.clone());
        columns.code.push(submission.code.clone());
        columns
            .verdict
            .push(serde_json::to_string(&submission.verdict)?);
        columns
            .verdict_status
            .push(Outcome::from(submission.verdict.status));
        columns.tests_passed.push(passed);
        columns.tests_total.push(total);
        columns.created_at.push(submission.created_at);
        columns.finished_at.push(submission.finished_at);
    }
    sqlx::query!(
        "INSERT INTO submissions (id, user_id, mode, exercise_id, exercise_hash, code, status,
                                  attempts, verdict, verdict_status, tests_passed, tests_total,
                                  created_at, started_at, finished_at)
         SELECT id, u, m, e, h, c, $13, 1, v::jsonb, vs, tp, tt, ca, ca, fa
           FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[],
                       $6::text[], $7::text[], $8::text[], $9::int[], $10::int[],
                       $11::timestamptz[], $12::timestamptz[])
                AS t(id, u, m, e, h, c, v, vs, tp, tt, ca, fa)",
        &columns.id,
        &columns.user_id,
        &columns.mode as &[Mode],
        &columns.exercise_id,
        &columns.exercise_hash,
        &columns.code,
        &columns.verdict,
        &columns.verdict_status as &[Outcome],
        &columns.tests_passed,
        &columns.tests_total,
        &columns.created_at,
        &columns.finished_at,
        JobStatus::Done as JobStatus,
    )
    .execute(&mut *tx)
    .await?;
    Ok(ids)
}

/// Inserts the progress rows; `ids` are the batch's submission ids, which
/// the rows point at by position.
async fn write_progress(
    tx: &mut sqlx::PgConnection,
    progress: &[PendingProgress],
    ids: &[i64],
) -> Result<()> {
    let mut p = ProgressColumns::default();
    for row in progress {
        p.user_id.push(row.user_id);
        p.exercise_id.push(row.exercise_id.clone());
        p.first_opened_at.push(row.first_opened_at);
        p.attempts.push(row.attempts);
        p.best_passed.push(row.best_passed);
        p.best_total.push(row.best_total);
        p.passed_at.push(row.passed_at);
        p.passed_hash.push(row.passed_hash.clone());
        p.last_submission_id
            .push(row.last_submission.map(|i| ids[i]));
        p.last_activity_at.push(row.last_activity_at);
    }
    sqlx::query!(
        "INSERT INTO exercise_progress (user_id, exercise_id, first_opened_at, attempts,
                                        best_passed, best_total, passed_at, passed_hash,
                                        last_submission_id, last_activity_at)
         SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::timestamptz[], $4::int[],
                              $5::int[], $6::int[], $7::timestamptz[], $8::text[],
                              $9::bigint[], $10::timestamptz[])",
        &p.user_id,
        &p.exercise_id,
        &p.first_opened_at,
        &p.attempts,
        &p.best_passed,
        &p.best_total,
        &p.passed_at as &[Option<OffsetDateTime>],
        &p.passed_hash as &[Option<String>],
        &p.last_submission_id as &[Option<i64>],
        &p.last_activity_at,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Inserts the lesson visits.
async fn write_visits(tx: &mut sqlx::PgConnection, visits: &[Visit]) -> Result<()> {
    let (mut vu, mut vm, mut vl, mut vf, mut vla) = (vec![], vec![], vec![], vec![], vec![]);
    for (u, m, l, f, la) in visits {
        vu.push(*u);
        vm.push(m.clone());
        vl.push(l.clone());
        vf.push(*f);
        vla.push(*la);
    }
    sqlx::query!(
        "INSERT INTO lesson_visits (user_id, module_id, lesson_id, first_at, last_at)
         SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[])",
        &vu,
        &vm,
        &vl,
        &vf,
        &vla,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Inserts the hint reveals.
async fn write_hints(
    tx: &mut sqlx::PgConnection,
    hints: &[(i64, String, i32, OffsetDateTime)],
) -> Result<()> {
    let (mut hu, mut he, mut hi, mut ht) = (vec![], vec![], vec![], vec![]);
    for (u, e, i, t) in hints {
        hu.push(*u);
        he.push(e.clone());
        hi.push(*i);
        ht.push(*t);
    }
    sqlx::query!(
        "INSERT INTO hint_reveals (user_id, exercise_id, hint_index, revealed_at)
         SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::int[], $4::timestamptz[])",
        &hu,
        &he,
        &hi,
        &ht,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

#[derive(Default)]
struct SubmissionColumns {
    id: Vec<i64>,
    user_id: Vec<i64>,
    mode: Vec<Mode>,
    exercise_id: Vec<String>,
    exercise_hash: Vec<String>,
    code: Vec<String>,
    verdict: Vec<String>,
    verdict_status: Vec<Outcome>,
    tests_passed: Vec<i32>,
    tests_total: Vec<i32>,
    created_at: Vec<OffsetDateTime>,
    finished_at: Vec<OffsetDateTime>,
}

#[derive(Default)]
struct ProgressColumns {
    user_id: Vec<i64>,
    exercise_id: Vec<String>,
    first_opened_at: Vec<OffsetDateTime>,
    attempts: Vec<i32>,
    best_passed: Vec<i32>,
    best_total: Vec<i32>,
    passed_at: Vec<Option<OffsetDateTime>>,
    passed_hash: Vec<Option<String>>,
    last_submission_id: Vec<Option<i64>>,
    last_activity_at: Vec<OffsetDateTime>,
}

/// Fresh statistics, so the planner sees the new volume at once.
pub(super) async fn analyze(db: &PgPool) -> Result<()> {
    sqlx::query!("ANALYZE submissions, exercise_progress, cohort_members, lesson_visits")
        .execute(db)
        .await?;
    Ok(())
}
