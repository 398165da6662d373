//! Comments on a learner's submissions (`submission_comments`): instructors
//! write them from their dashboard, learners read them beside their history.
//!
//! They live on the learner's side because they are part of the learner's
//! record; [`crate::instructor`] writes through here, so the learner's pages
//! never depend on the instructor's.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;

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
pub async fn on(db: &PgPool, submission_id: i64) -> sqlx::Result<Vec<Comment>> {
    let mut by_submission = on_each(db, &[submission_id]).await?;
    Ok(by_submission.remove(&submission_id).unwrap_or_default())
}

/// The comments on each of `submission_ids`, oldest first, keyed by
/// submission (those without any are absent). One query, however many
/// submissions: the learner's history lists up to fifty at once.
pub async fn on_each(
    db: &PgPool,
    submission_ids: &[i64],
) -> sqlx::Result<HashMap<i64, Vec<Comment>>> {
    let rows = sqlx::query!(
        "SELECT c.submission_id, c.id, u.display_name AS author, c.body, c.created_at
           FROM submission_comments c JOIN users u ON u.id = c.author_id
          WHERE c.submission_id = ANY($1) ORDER BY c.id",
        submission_ids,
    )
    .fetch_all(db)
    .await?;
    let mut by_submission: HashMap<i64, Vec<Comment>> = HashMap::new();
    for row in rows {
        by_submission
            .entry(row.submission_id)
            .or_default()
            .push(Comment {
                id: row.id,
                author: row.author,
                body: row.body,
                created_at: row.created_at,
            });
    }
    Ok(by_submission)
}

/// Records a comment by `author_id`; returns its id.
pub async fn add(db: &PgPool, submission_id: i64, author_id: i64, body: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "INSERT INTO submission_comments (submission_id, author_id, body) VALUES ($1, $2, $3)
         RETURNING id",
        submission_id,
        author_id,
        body,
    )
    .fetch_one(db)
    .await
}
