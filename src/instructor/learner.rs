//! One learner in depth: the timeline of lessons read and submissions made,
//! any submission with its verdict and its diff against the one before, and
//! instructors' comments on submissions (`submission_comments`).

use std::collections::HashMap;

use serde::Serialize;
use similar::{ChangeTag, TextDiff};
use sqlx::PgPool;
use time::OffsetDateTime;

/// Something the learner did.
#[derive(Clone, Debug)]
pub enum Event {
    /// Opened a lesson (first visit).
    Lesson {
        /// Its module.
        module_id: String,
        /// The lesson.
        lesson_id: String,
        /// First visit.
        at: OffsetDateTime,
    },
    /// Handed in code.
    Submission {
        /// `submissions.id`
        id: i64,
        /// submit, visible or run.
        mode: String,
        /// The exercise (none for runs).
        exercise_id: Option<String>,
        /// pass, fail, error; none while grading.
        verdict_status: Option<String>,
        /// Tests passed.
        tests_passed: Option<i32>,
        /// Tests run.
        tests_total: Option<i32>,
        /// When.
        at: OffsetDateTime,
    },
}

impl Event {
    /// When it happened.
    pub fn at(&self) -> OffsetDateTime {
        match self {
            Event::Lesson { at, .. } | Event::Submission { at, .. } => *at,
        }
    }
}

/// Most events shown on a timeline (the newest).
pub const TIMELINE_LIMIT: i64 = 400;

/// The learner's newest events, newest first.
pub async fn timeline(db: &PgPool, learner_id: i64) -> sqlx::Result<Vec<Event>> {
    let (visits, submissions) =
        tokio::try_join!(
        sqlx::query_as::<_, (String, String, OffsetDateTime)>(
            "SELECT module_id, lesson_id, first_at FROM lesson_visits WHERE user_id = $1
              ORDER BY first_at DESC LIMIT $2",
        )
        .bind(learner_id)
        .bind(TIMELINE_LIMIT)
        .fetch_all(db),
        sqlx::query_as::<
            _,
            (i64, String, Option<String>, Option<String>, Option<i32>, Option<i32>, OffsetDateTime),
        >(
            "SELECT id, mode, exercise_id, verdict_status, tests_passed, tests_total, created_at
               FROM submissions WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(learner_id)
        .bind(TIMELINE_LIMIT)
        .fetch_all(db),
    )?;
    let mut events: Vec<Event> = visits
        .into_iter()
        .map(|(module_id, lesson_id, at)| Event::Lesson {
            module_id,
            lesson_id,
            at,
        })
        .chain(submissions.into_iter().map(
            |(id, mode, exercise_id, verdict_status, tests_passed, tests_total, at)| {
                Event::Submission {
                    id,
                    mode,
                    exercise_id,
                    verdict_status,
                    tests_passed,
                    tests_total,
                    at,
                }
            },
        ))
        .collect();
    events.sort_by_key(|e| std::cmp::Reverse(e.at()));
    events.truncate(TIMELINE_LIMIT as usize);
    Ok(events)
}

/// A submission in full.
#[derive(Clone, Debug)]
pub struct Submission {
    /// `submissions.id`
    pub id: i64,
    /// Whose.
    pub user_id: i64,
    /// submit, visible or run.
    pub mode: String,
    /// The exercise (none for runs).
    pub exercise_id: Option<String>,
    /// The code.
    pub code: String,
    /// queued, running or done.
    pub status: String,
    /// The verdict, once done.
    pub verdict: Option<crate::grading::verdict::Verdict>,
    /// When.
    pub created_at: OffsetDateTime,
}

/// The submission `id`, if it exists.
pub async fn submission(db: &PgPool, id: i64) -> sqlx::Result<Option<Submission>> {
    type Row = (
        i64,
        Option<i64>,
        String,
        Option<String>,
        String,
        String,
        Option<sqlx::types::Json<crate::grading::verdict::Verdict>>,
        OffsetDateTime,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, user_id, mode, exercise_id, code, status, verdict, created_at
           FROM submissions WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(
        |(id, user_id, mode, exercise_id, code, status, verdict, created_at)| {
            Some(Submission {
                id,
                user_id: user_id?,
                mode,
                exercise_id,
                code,
                status,
                verdict: verdict.map(|v| v.0),
                created_at,
            })
        },
    ))
}

/// The same learner's submission just before `submission` on the same
/// exercise (or the previous run, for runs): (id, code).
pub async fn previous(db: &PgPool, submission: &Submission) -> sqlx::Result<Option<(i64, String)>> {
    sqlx::query_as(
        "SELECT id, code FROM submissions
          WHERE user_id = $1 AND exercise_id IS NOT DISTINCT FROM $2 AND id < $3
          ORDER BY id DESC LIMIT 1",
    )
    .bind(submission.user_id)
    .bind(&submission.exercise_id)
    .bind(submission.id)
    .fetch_optional(db)
    .await
}

/// One line of a diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffLine {
    /// `same`, `added`, `removed`, or `gap` (unchanged lines left out).
    pub kind: &'static str,
    /// The line, without its newline.
    pub text: String,
}

/// A line diff of `before` → `after` with three lines of context.
pub fn diff(before: &str, after: &str) -> Vec<DiffLine> {
    let diff = TextDiff::from_lines(before, after);
    let mut lines = Vec::new();
    for (i, group) in diff.grouped_ops(3).iter().enumerate() {
        if i > 0 {
            lines.push(DiffLine {
                kind: "gap",
                text: "…".into(),
            });
        }
        for op in group {
            for change in diff.iter_changes(op) {
                lines.push(DiffLine {
                    kind: match change.tag() {
                        ChangeTag::Equal => "same",
                        ChangeTag::Insert => "added",
                        ChangeTag::Delete => "removed",
                    },
                    text: change.value().trim_end_matches('\n').to_string(),
                });
            }
        }
    }
    lines
}

/// A comment on a submission.
#[derive(Clone, Debug, Serialize)]
pub struct Comment {
    /// `submission_comments.id`
    pub id: i64,
    /// Who wrote it.
    pub author: String,
    /// The text, as written (escaped when shown).
    pub body: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Longest comment accepted, in characters.
pub const MAX_COMMENT_CHARS: usize = 4000;

/// The comments on `submission_id`, oldest first.
pub async fn comments(db: &PgPool, submission_id: i64) -> sqlx::Result<Vec<Comment>> {
    let mut by_submission = comments_on(db, &[submission_id]).await?;
    Ok(by_submission.remove(&submission_id).unwrap_or_default())
}

/// The comments on each of `submission_ids`, oldest first, keyed by
/// submission (those without any are absent). One query, however many
/// submissions: the learner's history lists up to fifty at once.
pub async fn comments_on(
    db: &PgPool,
    submission_ids: &[i64],
) -> sqlx::Result<HashMap<i64, Vec<Comment>>> {
    let rows: Vec<(i64, i64, String, String, OffsetDateTime)> = sqlx::query_as(
        "SELECT c.submission_id, c.id, u.display_name, c.body, c.created_at
           FROM submission_comments c JOIN users u ON u.id = c.author_id
          WHERE c.submission_id = ANY($1) ORDER BY c.id",
    )
    .bind(submission_ids)
    .fetch_all(db)
    .await?;
    let mut by_submission: HashMap<i64, Vec<Comment>> = HashMap::new();
    for (submission_id, id, author, body, created_at) in rows {
        by_submission
            .entry(submission_id)
            .or_default()
            .push(Comment {
                id,
                author,
                body,
                created_at,
            });
    }
    Ok(by_submission)
}

/// Records a comment by `author_id`.
pub async fn add_comment(
    db: &PgPool,
    submission_id: i64,
    author_id: i64,
    body: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO submission_comments (submission_id, author_id, body) VALUES ($1, $2, $3)
         RETURNING id",
    )
    .bind(submission_id)
    .bind(author_id)
    .bind(body)
    .fetch_one(db)
    .await
}
