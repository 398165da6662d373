//! Code reviews handed in: the one place that talks SQL for
//! `review_submissions`, and that records what a review does to
//! `exercise_progress`.
//!
//! A review is not a grading job, so it never enters the sandbox queue
//! ([`super::queue`]): it is scored against the exercise's key when handed
//! in ([`super::judge::review`]) and stored with its marks, its finding per
//! planted defect and its score, in one transaction with the learner's
//! progress, so a passing review is a passed exercise at once. Handing in
//! shows the key, so each learner hands in once per version of the
//! exercise (a unique index).

use sqlx::PgPool;
use sqlx::types::Json;
use time::OffsetDateTime;

use crate::curriculum::Exercise;
use crate::curriculum::review::{Finding, Mark, ReviewScore};

/// A review as handed in.
#[derive(Debug, Clone)]
pub struct ReviewSubmission {
    /// `review_submissions.id`
    pub id: i64,
    /// Its author.
    pub user_id: i64,
    /// The exercise.
    pub exercise_id: String,
    /// The version of the exercise (diff and key) it was scored against.
    pub exercise_hash: String,
    /// The learner's marks.
    pub marks: Vec<Mark>,
    /// Per planted defect, in the key's order.
    pub findings: Vec<Finding>,
    /// points / defects, clamped to 0–1.
    pub score: f64,
    /// Whether it passed.
    pub passed: bool,
    /// When it was handed in.
    pub created_at: OffsetDateTime,
}

/// How often one planted defect was missed, over the reviews a cohort's
/// learners handed in for the current version of an exercise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefectTally {
    /// The defect's position in the key (0-based).
    pub defect: usize,
    /// Reviews that did not mark it.
    pub missed: i64,
    /// Reviews that marked its line with another category.
    pub half: i64,
    /// Reviews handed in.
    pub reviews: i64,
}

/// Stores `user_id`'s review of `exercise` (its `marks`, scored as
/// `graded`) and records the attempt, and the pass if it passed, in the
/// learner's progress. `None` when they already handed in a review of this
/// version of the exercise: nothing changes.
pub async fn hand_in(
    db: &PgPool,
    user_id: i64,
    exercise: &Exercise,
    marks: &[Mark],
    graded: &ReviewScore,
) -> sqlx::Result<Option<i64>> {
    let findings: Vec<String> = graded.findings.iter().map(|f| f.id().to_string()).collect();
    let passed = graded.passed();
    let mut tx = db.begin().await?;
    let Some(id) = sqlx::query_scalar!(
        "INSERT INTO review_submissions
            (user_id, exercise_id, exercise_hash, marks, findings, score, passed)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (user_id, exercise_id, exercise_hash) DO NOTHING
         RETURNING id",
        user_id,
        exercise.id,
        exercise.content_hash,
        Json(marks) as _,
        &findings,
        graded.score,
        passed,
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(None);
    };
    let found = graded
        .findings
        .iter()
        .filter(|f| **f == Finding::Found)
        .count();
    sqlx::query!(
        "INSERT INTO exercise_progress AS p
            (user_id, exercise_id, attempts, best_passed, best_total, passed_at, passed_hash)
         VALUES ($1, $2, 1, $3, $4, CASE WHEN $5 THEN now() END, CASE WHEN $5 THEN $6 END)
         ON CONFLICT (user_id, exercise_id) DO UPDATE
            SET attempts = p.attempts + 1,
                best_passed = greatest(p.best_passed, $3),
                best_total = $4,
                passed_at = CASE WHEN $5 THEN coalesce(p.passed_at, now()) ELSE p.passed_at END,
                passed_hash = CASE WHEN $5 THEN $6 ELSE p.passed_hash END,
                last_activity_at = now()",
        user_id,
        exercise.id,
        i32::try_from(found).unwrap_or(i32::MAX),
        i32::try_from(graded.findings.len()).unwrap_or(i32::MAX),
        passed,
        exercise.content_hash,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(id))
}

struct Row {
    id: i64,
    user_id: i64,
    exercise_id: String,
    exercise_hash: String,
    marks: Json<Vec<Mark>>,
    findings: Vec<String>,
    score: f64,
    passed: bool,
    created_at: OffsetDateTime,
}

impl From<Row> for ReviewSubmission {
    fn from(row: Row) -> Self {
        Self {
            id: row.id,
            user_id: row.user_id,
            exercise_id: row.exercise_id,
            exercise_hash: row.exercise_hash,
            marks: row.marks.0,
            findings: row.findings.iter().map(|f| Finding::from_id(f)).collect(),
            score: row.score,
            passed: row.passed,
            created_at: row.created_at,
        }
    }
}

/// The learner's latest review of `exercise_id`, if any.
pub async fn latest(
    db: &PgPool,
    user_id: i64,
    exercise_id: &str,
) -> sqlx::Result<Option<ReviewSubmission>> {
    let row = sqlx::query_as!(
        Row,
        r#"SELECT id, user_id, exercise_id, exercise_hash, marks AS "marks: Json<Vec<Mark>>",
                  findings, score, passed, created_at
             FROM review_submissions WHERE user_id = $1 AND exercise_id = $2
            ORDER BY id DESC LIMIT 1"#,
        user_id,
        exercise_id,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(Into::into))
}

/// Review `id`, whoever wrote it (callers check who may see it).
pub async fn find(db: &PgPool, id: i64) -> sqlx::Result<Option<ReviewSubmission>> {
    let row = sqlx::query_as!(
        Row,
        r#"SELECT id, user_id, exercise_id, exercise_hash, marks AS "marks: Json<Vec<Mark>>",
                  findings, score, passed, created_at
             FROM review_submissions WHERE id = $1"#,
        id,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(Into::into))
}

/// Per planted defect of the current version of `exercise`, how many
/// reviews by learners of `cohort_id` missed it or half-found it: most
/// missed first.
pub async fn most_missed(
    db: &PgPool,
    cohort_id: i64,
    exercise: &Exercise,
) -> sqlx::Result<Vec<DefectTally>> {
    let rows = sqlx::query!(
        r#"SELECT f.position AS "position!",
                  count(*) FILTER (WHERE f.finding = 'missed') AS "missed!",
                  count(*) FILTER (WHERE f.finding = 'half') AS "half!",
                  count(*) AS "reviews!"
             FROM review_submissions s
             JOIN cohort_members m ON m.user_id = s.user_id AND m.cohort_id = $3,
                  unnest(s.findings) WITH ORDINALITY AS f (finding, position)
            WHERE s.exercise_id = $1 AND s.exercise_hash = $2
            GROUP BY f.position
            ORDER BY 2 DESC, 3 DESC, 1"#,
        exercise.id,
        exercise.content_hash,
        cohort_id,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| DefectTally {
            defect: usize::try_from(row.position - 1).unwrap_or(0),
            missed: row.missed,
            half: row.half,
            reviews: row.reviews,
        })
        .collect())
}
