//! What the learner did: lessons read, exercises opened, hints revealed, and
//! the versions of exercises they saw.

use sqlx::PgPool;

use crate::curriculum::Exercise;

/// Notes that the learner read a lesson (first and latest visit).
pub async fn visit_lesson(
    db: &PgPool,
    user_id: i64,
    module_id: &str,
    lesson_id: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO lesson_visits (user_id, module_id, lesson_id) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, module_id, lesson_id) DO UPDATE SET last_at = now()",
        user_id,
        module_id,
        lesson_id,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Notes the first time the learner opened an exercise; later visits keep it.
///
/// The grader upserts the same row when a submission finishes, so both sides
/// only ever fill in their own columns.
pub async fn open_exercise(db: &PgPool, user_id: i64, exercise_id: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO exercise_progress AS p (user_id, exercise_id, first_opened_at)
         VALUES ($1, $2, now())
         ON CONFLICT (user_id, exercise_id) DO UPDATE
            SET first_opened_at = coalesce(p.first_opened_at, now())
          WHERE p.first_opened_at IS NULL",
        user_id,
        exercise_id,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Keeps what learners see of the current version of every exercise, so that
/// when one changes later its page can show what changed. Run once at
/// start-up: the content only changes with a restart.
pub async fn remember_versions(
    db: &PgPool,
    programme: &crate::curriculum::Programme,
) -> sqlx::Result<()> {
    for exercise in programme.exercises() {
        remember_version(db, exercise).await?;
    }
    Ok(())
}

async fn remember_version(db: &PgPool, exercise: &Exercise) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO exercise_versions (hash, exercise_id, visible) VALUES ($1, $2, $3)
         ON CONFLICT (hash) DO NOTHING",
        exercise.content_hash,
        exercise.id,
        visible_text(exercise),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// What a learner sees of an exercise, as plain text for diffing.
pub fn visible_text(exercise: &Exercise) -> String {
    format!(
        "# {}\n\n{}\n\n## Starter\n\n{}\n\n## Visible tests\n\n{}\n",
        exercise.title,
        text_of_html(&exercise.statement_html).trim(),
        exercise.starter.trim_end(),
        exercise.visible_tests().unwrap_or_default().trim_end()
    )
}

/// The text of a rendered statement, one block per line (tags dropped,
/// the few entities the renderer writes decoded).
fn text_of_html(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The visible text of an earlier version of an exercise, if it was seen.
pub async fn version_text(db: &PgPool, hash: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "SELECT visible FROM exercise_versions WHERE hash = $1",
        hash
    )
    .fetch_optional(db)
    .await
}

/// How many hints of an exercise the learner has revealed (always the first ones).
pub async fn hints_revealed(db: &PgPool, user_id: i64, exercise_id: &str) -> sqlx::Result<usize> {
    let count = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM hint_reveals WHERE user_id = $1 AND exercise_id = $2"#,
        user_id,
        exercise_id,
    )
    .fetch_one(db)
    .await?;
    Ok(usize::try_from(count).unwrap_or(0))
}

/// Why a hint could not be revealed.
#[derive(Debug, PartialEq, Eq)]
pub enum HintRefused {
    /// The exercise has no hint with that number.
    NoSuchHint,
    /// Hints come one at a time: this many are revealed, so only the next may be.
    OutOfOrder {
        /// Hints revealed so far.
        revealed: usize,
    },
}

/// Reveals hint `index` (from 0) of `exercise`. Hints come in order: asking
/// for one already revealed is fine (a second tab), skipping ahead is not.
/// Returns how many are revealed now.
pub async fn reveal_hint(
    db: &PgPool,
    user_id: i64,
    exercise: &Exercise,
    index: usize,
) -> sqlx::Result<Result<usize, HintRefused>> {
    if index >= exercise.hints.len() {
        return Ok(Err(HintRefused::NoSuchHint));
    }
    let revealed = hints_revealed(db, user_id, &exercise.id).await?;
    if index > revealed {
        return Ok(Err(HintRefused::OutOfOrder { revealed }));
    }
    sqlx::query!(
        "INSERT INTO hint_reveals (user_id, exercise_id, hint_index) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
        user_id,
        exercise.id,
        i32::try_from(index).unwrap_or(i32::MAX),
    )
    .execute(db)
    .await?;
    Ok(Ok(revealed.max(index + 1)))
}
