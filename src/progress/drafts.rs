//! Autosaved drafts with optimistic locking.
//!
//! Every draft carries a `version`. A save names the version it was based on;
//! if someone (another tab, another device) saved in between, the save is
//! refused and the caller gets the newer draft back, so nothing is ever
//! overwritten silently. Version 0 means "no draft yet": the page started
//! from the exercise's starter code.

use sqlx::PgPool;
use time::OffsetDateTime;

/// A learner's saved work on one exercise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    /// The code as last saved.
    pub code: String,
    /// Bumped by one on every save.
    pub version: i64,
    /// When it was last saved.
    pub updated_at: OffsetDateTime,
}

/// What became of a save.
#[derive(Debug)]
pub enum Saved {
    /// Stored as this new draft.
    Saved(Draft),
    /// Refused: the draft moved on since `base_version`. This is the newer one
    /// (`None` if the draft the save was based on no longer exists).
    Stale(Option<Draft>),
}

/// The learner's draft for `exercise_id`, if they have one.
pub async fn load(db: &PgPool, user_id: i64, exercise_id: &str) -> sqlx::Result<Option<Draft>> {
    sqlx::query_as!(
        Draft,
        "SELECT code, version, updated_at FROM drafts WHERE user_id = $1 AND exercise_id = $2",
        user_id,
        exercise_id,
    )
    .fetch_optional(db)
    .await
}

/// Saves `code` over the draft at `base_version` (0: there was none).
///
/// The compare-and-set is a single statement, so two concurrent saves from
/// the same version cannot both succeed: the row lock makes the second one
/// re-check `version` and miss.
pub async fn save(
    db: &PgPool,
    user_id: i64,
    exercise_id: &str,
    code: &str,
    base_version: i64,
) -> sqlx::Result<Saved> {
    let saved = if base_version == 0 {
        sqlx::query_as!(
            Draft,
            "INSERT INTO drafts (user_id, exercise_id, code, version) VALUES ($1, $2, $3, 1)
             ON CONFLICT (user_id, exercise_id) DO NOTHING
             RETURNING code, version, updated_at",
            user_id,
            exercise_id,
            code,
        )
        .fetch_optional(db)
        .await?
    } else {
        sqlx::query_as!(
            Draft,
            "UPDATE drafts SET code = $3, version = version + 1, updated_at = now()
              WHERE user_id = $1 AND exercise_id = $2 AND version = $4
             RETURNING code, version, updated_at",
            user_id,
            exercise_id,
            code,
            base_version,
        )
        .fetch_optional(db)
        .await?
    };
    Ok(match saved {
        Some(draft) => Saved::Saved(draft),
        None => Saved::Stale(load(db, user_id, exercise_id).await?),
    })
}

/// Deletes old drafts: those untouched for `passed_days` days on an
/// exercise the learner has passed (the passing code is kept with the
/// submissions), and, when `unpassed_days` is not 0, those untouched that
/// long on any other exercise (a learner's only copy of unsubmitted work,
/// hence a long retention, and 0 keeps them forever). Returns how many went.
pub async fn purge_old(db: &PgPool, passed_days: u32, unpassed_days: u32) -> sqlx::Result<u64> {
    let deleted = sqlx::query!(
        r#"DELETE FROM drafts d
           WHERE (d.updated_at < now() - make_interval(days => $1)
                  AND EXISTS (SELECT 1 FROM exercise_progress p
                              WHERE p.user_id = d.user_id AND p.exercise_id = d.exercise_id
                                AND p.passed_at IS NOT NULL))
              OR ($2 > 0 AND d.updated_at < now() - make_interval(days => $2))"#,
        passed_days as i32,
        unpassed_days as i32,
    )
    .execute(db)
    .await?;
    Ok(deleted.rows_affected())
}
