//! Written work in review: the one place that talks SQL for
//! `written_submissions`, `written_scores` and `written_line_comments`, and
//! that records what written work does to `exercise_progress`.
//!
//! A written submission is not a grading job, so it never enters the
//! sandbox queue ([`super::queue`]): handed in, it waits (state
//! [`ReviewState::AwaitingReview`]) in the review queue of the instructors of
//! the learner's cohorts. An instructor comments on its lines, scores every
//! criterion of the rubric ([`super::judge::written::score`]) and decides;
//! the decision and the scores are written in one transaction, with the
//! learner's progress, so an accepted note is a passed exercise at once.
//!
//! One submission per learner and exercise waits at a time (a partial
//! unique index), and a learner whose work was accepted for the current
//! version of the exercise cannot hand in again.

use sqlx::PgPool;
use time::OffsetDateTime;

use super::job::ReviewState;
use super::judge::written::{Decision, Scorecard};
use crate::auth::User;
use crate::auth::users::Role;
use crate::curriculum::Exercise;

/// A piece of written work as handed in, with the decision once there is one.
#[derive(Debug, Clone)]
pub struct WrittenSubmission {
    /// `written_submissions.id`
    pub id: i64,
    /// Its author.
    pub user_id: i64,
    /// The exercise.
    pub exercise_id: String,
    /// The version of the exercise (and its rubric) it was written against.
    pub exercise_hash: String,
    /// The markdown.
    pub body: String,
    /// Where it is in review.
    pub state: ReviewState,
    /// Total of the scores, once decided.
    pub points: Option<i32>,
    /// The rubric's maximum when handed in.
    pub max_points: i32,
    /// The instructor's overall comment.
    pub overall_comment: Option<String>,
    /// When it was handed in.
    pub created_at: OffsetDateTime,
    /// When an instructor decided.
    pub reviewed_at: Option<OffsetDateTime>,
}

/// An instructor's comment on one line of a submission.
#[derive(Debug, Clone)]
pub struct LineComment {
    /// `written_line_comments.id`
    pub id: i64,
    /// The 1-based line of the markdown it is on.
    pub line: i32,
    /// Who wrote it.
    pub author: String,
    /// What it says (plain text).
    pub body: String,
    /// When.
    pub created_at: OffsetDateTime,
}

/// A submission waiting in the review queue.
#[derive(Debug, Clone)]
pub struct Waiting {
    /// The submission.
    pub id: i64,
    /// Its author's id.
    pub user_id: i64,
    /// Its author's name.
    pub learner: String,
    /// The exercise.
    pub exercise_id: String,
    /// When it was handed in.
    pub created_at: OffsetDateTime,
}

/// Why a learner cannot hand in now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandInRefused {
    /// Their previous submission is still waiting for review.
    StillWaiting,
    /// Their work on this version of the exercise was accepted.
    AlreadyAccepted,
}

/// Hands in `body` for `exercise` (kind `written`) as `user_id`: a new
/// submission awaiting review, and one more attempt in the learner's progress.
pub async fn hand_in(
    db: &PgPool,
    user_id: i64,
    exercise: &Exercise,
    max_points: u32,
    body: &str,
) -> sqlx::Result<Result<i64, HandInRefused>> {
    let mut tx = db.begin().await?;
    // Serialise this learner's hand-ins of this exercise: the accepted check
    // and the insert must see the same history.
    sqlx::query!(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        i32::try_from(user_id % i64::from(i32::MAX)).unwrap_or(0),
        exercise.id,
    )
    .execute(&mut *tx)
    .await?;
    let latest = sqlx::query!(
        r#"SELECT state AS "state: ReviewState", exercise_hash FROM written_submissions
            WHERE user_id = $1 AND exercise_id = $2 ORDER BY id DESC LIMIT 1"#,
        user_id,
        exercise.id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    match latest {
        Some(row) if row.state == ReviewState::AwaitingReview => {
            return Ok(Err(HandInRefused::StillWaiting));
        }
        Some(row)
            if row.state == ReviewState::Accepted && row.exercise_hash == exercise.content_hash =>
        {
            return Ok(Err(HandInRefused::AlreadyAccepted));
        }
        _ => {}
    }
    let id = sqlx::query_scalar!(
        "INSERT INTO written_submissions (user_id, exercise_id, exercise_hash, body, state, max_points)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        user_id,
        exercise.id,
        exercise.content_hash,
        body,
        ReviewState::AwaitingReview as ReviewState,
        i32::try_from(max_points).unwrap_or(i32::MAX),
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO exercise_progress AS p (user_id, exercise_id, attempts, review_state)
         VALUES ($1, $2, 1, $3)
         ON CONFLICT (user_id, exercise_id) DO UPDATE
            SET attempts = p.attempts + 1, review_state = $3, last_activity_at = now()",
        user_id,
        exercise.id,
        ReviewState::AwaitingReview as ReviewState,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Ok(id))
}

/// Submission `id`, whoever wrote it (callers check who may see it).
pub async fn find(db: &PgPool, id: i64) -> sqlx::Result<Option<WrittenSubmission>> {
    sqlx::query_as!(
        WrittenSubmission,
        r#"SELECT id, user_id, exercise_id, exercise_hash, body, state AS "state: ReviewState",
                  points, max_points, overall_comment, created_at, reviewed_at
             FROM written_submissions WHERE id = $1"#,
        id,
    )
    .fetch_optional(db)
    .await
}

/// The learner's submissions of `exercise_id`, newest first.
pub async fn history(
    db: &PgPool,
    user_id: i64,
    exercise_id: &str,
) -> sqlx::Result<Vec<WrittenSubmission>> {
    sqlx::query_as!(
        WrittenSubmission,
        r#"SELECT id, user_id, exercise_id, exercise_hash, body, state AS "state: ReviewState",
                  points, max_points, overall_comment, created_at, reviewed_at
             FROM written_submissions WHERE user_id = $1 AND exercise_id = $2
            ORDER BY id DESC LIMIT 50"#,
        user_id,
        exercise_id,
    )
    .fetch_all(db)
    .await
}

/// The points given per criterion, as (criterion id, points).
pub async fn scores(db: &PgPool, id: i64) -> sqlx::Result<Vec<(String, i32)>> {
    Ok(sqlx::query!(
        "SELECT criterion_id, points FROM written_scores WHERE submission_id = $1",
        id
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|row| (row.criterion_id, row.points))
    .collect())
}

/// The comments on the submission's lines, by line then age.
pub async fn line_comments(db: &PgPool, id: i64) -> sqlx::Result<Vec<LineComment>> {
    sqlx::query_as!(
        LineComment,
        "SELECT c.id, c.line, u.display_name AS author, c.body, c.created_at
           FROM written_line_comments c JOIN users u ON u.id = c.author_id
          WHERE c.submission_id = $1 ORDER BY c.line, c.id",
        id,
    )
    .fetch_all(db)
    .await
}

/// Adds `author_id`'s comment on `line` of submission `id`.
pub async fn comment_on_line(
    db: &PgPool,
    id: i64,
    line: i32,
    author_id: i64,
    body: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "INSERT INTO written_line_comments (submission_id, line, author_id, body)
         VALUES ($1, $2, $3, $4) RETURNING id",
        id,
        line,
        author_id,
        body,
    )
    .fetch_one(db)
    .await
}

/// Records `reviewer_id`'s decision on submission `id` with its scores and
/// the learner's progress, in one transaction. `false` when the submission
/// was no longer waiting (another instructor decided first): nothing changes.
pub async fn decide(
    db: &PgPool,
    id: i64,
    reviewer_id: i64,
    card: &Scorecard,
    decision: Decision,
    overall_comment: Option<&str>,
) -> sqlx::Result<bool> {
    let state = decision.state();
    let points = i32::try_from(card.points).unwrap_or(i32::MAX);
    let mut tx = db.begin().await?;
    let Some(decided) = sqlx::query!(
        "UPDATE written_submissions
            SET state = $2, points = $3, overall_comment = $4, reviewer_id = $5, reviewed_at = now()
          WHERE id = $1 AND state = $6
         RETURNING user_id, exercise_id, exercise_hash, max_points",
        id,
        state as ReviewState,
        points,
        overall_comment,
        reviewer_id,
        ReviewState::AwaitingReview as ReviewState,
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(false);
    };
    let (criteria, given): (Vec<String>, Vec<i32>) = card
        .scores
        .iter()
        .map(|(criterion, points)| (criterion.clone(), i32::try_from(*points).unwrap_or(0)))
        .unzip();
    sqlx::query!(
        "INSERT INTO written_scores (submission_id, criterion_id, points)
         SELECT $1, * FROM UNNEST($2::text[], $3::int[])",
        id,
        &criteria,
        &given,
    )
    .execute(&mut *tx)
    .await?;
    let accepted = decision == Decision::Accept;
    sqlx::query!(
        "UPDATE exercise_progress
            SET review_state = $3,
                passed_at = CASE WHEN $4 THEN coalesce(passed_at, now()) ELSE passed_at END,
                passed_hash = CASE WHEN $4 THEN $5 ELSE passed_hash END,
                best_passed = greatest(best_passed, $6),
                best_total = $7,
                last_activity_at = now()
          WHERE user_id = $1 AND exercise_id = $2",
        decided.user_id,
        decided.exercise_id,
        state as ReviewState,
        accepted,
        decided.exercise_hash,
        points,
        decided.max_points,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// The review queue of `viewer`: written work waiting from learners of the
/// cohorts they teach (every cohort, for an admin), oldest first.
pub async fn queue(db: &PgPool, viewer: &User) -> sqlx::Result<Vec<Waiting>> {
    sqlx::query_as!(
        Waiting,
        r#"SELECT w.id, w.user_id, u.display_name AS learner, w.exercise_id, w.created_at
             FROM written_submissions w JOIN users u ON u.id = w.user_id
            WHERE w.state = $3
              AND ($2 OR EXISTS (SELECT 1 FROM cohort_members m
                                   JOIN cohort_instructors i ON i.cohort_id = m.cohort_id
                                  WHERE m.user_id = w.user_id AND i.user_id = $1))
            ORDER BY w.created_at, w.id"#,
        viewer.id,
        viewer.role == Role::Admin,
        ReviewState::AwaitingReview as ReviewState,
    )
    .fetch_all(db)
    .await
}
