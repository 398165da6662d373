//! Certificates of completion: the one place that talks SQL for
//! `certificates`.
//!
//! A learner has **completed the programme** when every exercise of every
//! module is passed — graded code passed by the grader, written work
//! accepted by an instructor — at any version (an out-of-date pass still
//! counts, as it does for module completion). Lessons and concept checks are
//! not required. A complete learner's certificate is issued the first time
//! they open their certificate page; it records, as issued, their name, the
//! programme's title and version (a hash of every exercise's content hash)
//! and the exercises completed, so an employer opening its public URL sees
//! what was true that day. Its id is 128 random bits: the URL is the
//! capability, nothing else about it can be guessed.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use sqlx::types::Json;
use time::OffsetDateTime;

use crate::curriculum::Programme;
use crate::progress::summary::LearnerProgress;

/// One completed exercise, as the certificate lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Completed {
    /// The module's title.
    pub module: String,
    /// The exercise's title.
    pub exercise: String,
    /// Its kind, as the catalogue names it.
    pub kind: String,
}

/// An issued certificate.
#[derive(Debug, Clone)]
pub struct Certificate {
    /// The unguessable id in its public URL.
    pub id: String,
    /// Whose it is.
    pub user_id: i64,
    /// The learner's name when issued.
    pub learner_name: String,
    /// The programme's title when issued.
    pub programme_title: String,
    /// The programme's version ([`programme_version`]) when issued.
    pub programme_hash: String,
    /// What was completed.
    pub completed: Json<Vec<Completed>>,
    /// When it was issued.
    pub issued_at: OffsetDateTime,
    /// When it was revoked, if it was.
    pub revoked_at: Option<OffsetDateTime>,
}

/// The programme's version: a hash of every exercise's id and content hash,
/// in order, so any change to what must be completed is a new version.
pub fn programme_version(programme: &Programme) -> String {
    let mut hasher = Sha256::new();
    for exercise in programme.exercises() {
        hasher.update(exercise.id.as_bytes());
        hasher.update([0]);
        hasher.update(exercise.content_hash.as_bytes());
        hasher.update([0]);
    }
    hasher.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The exercises the learner has not passed yet (empty: the programme is complete).
pub fn missing<'a>(
    programme: &'a Programme,
    progress: &LearnerProgress,
) -> Vec<&'a crate::curriculum::Exercise> {
    programme
        .modules
        .iter()
        .flat_map(|module| &module.items)
        .filter(|item| matches!(item, crate::curriculum::Item::Exercise(_)))
        .filter(|item| !progress.mark(item).is_complete())
        .filter_map(|item| match item {
            crate::curriculum::Item::Exercise(exercise) => Some(exercise.as_ref()),
            crate::curriculum::Item::Lesson(_) => None,
        })
        .collect()
}

/// The learner's live certificate for this version of the programme,
/// issuing it now if there is none. Call only once [`missing`] is empty.
pub async fn issue(
    db: &PgPool,
    user_id: i64,
    learner_name: &str,
    programme: &Programme,
) -> sqlx::Result<Certificate> {
    let version = programme_version(programme);
    if let Some(existing) = live(db, user_id, &version).await? {
        return Ok(existing);
    }
    let completed: Vec<Completed> = programme
        .modules
        .iter()
        .flat_map(|module| {
            module.exercises().map(|exercise| Completed {
                module: module.title.clone(),
                exercise: exercise.title.clone(),
                kind: exercise.kind.label().to_string(),
            })
        })
        .collect();
    // 128 random bits, hex: the URL is the capability.
    let id = crate::auth::secret::random_token()[..32].to_string();
    sqlx::query!(
        "INSERT INTO certificates (id, user_id, learner_name, programme_title, programme_hash, completed)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (user_id, programme_hash) WHERE revoked_at IS NULL DO NOTHING",
        id,
        user_id,
        learner_name,
        programme.title,
        version,
        Json(&completed) as _,
    )
    .execute(db)
    .await?;
    // Either ours, or one a parallel request issued a moment before.
    Ok(live(db, user_id, &version)
        .await?
        .expect("a live certificate was just issued"))
}

async fn live(db: &PgPool, user_id: i64, version: &str) -> sqlx::Result<Option<Certificate>> {
    sqlx::query_as!(
        Certificate,
        r#"SELECT id, user_id, learner_name, programme_title, programme_hash,
                  completed AS "completed: Json<Vec<Completed>>", issued_at, revoked_at
             FROM certificates
            WHERE user_id = $1 AND programme_hash = $2 AND revoked_at IS NULL"#,
        user_id,
        version,
    )
    .fetch_optional(db)
    .await
}

/// The certificate with this id, revoked or not.
pub async fn find(db: &PgPool, id: &str) -> sqlx::Result<Option<Certificate>> {
    sqlx::query_as!(
        Certificate,
        r#"SELECT id, user_id, learner_name, programme_title, programme_hash,
                  completed AS "completed: Json<Vec<Completed>>", issued_at, revoked_at
             FROM certificates WHERE id = $1"#,
        id,
    )
    .fetch_optional(db)
    .await
}

/// Revokes certificate `id` (by `by`); `false` if it was already revoked.
pub async fn revoke(db: &PgPool, id: &str, by: i64) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE certificates SET revoked_at = now(), revoked_by = $2
          WHERE id = $1 AND revoked_at IS NULL",
        id,
        by,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
