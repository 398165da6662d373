//! Personal API tokens (`Authorization: Bearer lst_…`) for the JSON API, so a
//! command-line client or an editor plugin can work without a browser.
//!
//! A token is shown once, at creation; the `api_tokens` table keeps only its
//! SHA-256 digest. Requests carrying a token need no CSRF token: a browser
//! never attaches one on its own, so a forged cross-site request cannot
//! carry it.

use sqlx::PgPool;
use time::OffsetDateTime;

use crate::auth::secret;
use crate::auth::users::{self, Role, User};

/// What every token starts with, so a leaked one is recognisable (secret scanners).
pub const PREFIX: &str = "lst_";
/// Live tokens one account may hold.
pub const MAX_ACTIVE: i64 = 20;
/// `last_used_at` is written at most this often per token, so API calls do not all write.
const LAST_USED_PRECISION: time::Duration = time::Duration::minutes(1);

/// A token as listed on the account page (never its secret).
#[derive(Clone, Debug)]
pub struct ApiToken {
    /// `api_tokens.id`
    pub id: i64,
    /// The owner's label for it ("laptop", "vim plugin").
    pub name: String,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When it last authenticated a request (to the minute).
    pub last_used_at: Option<OffsetDateTime>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<OffsetDateTime>,
}

/// A token's label: 1 to 60 characters, no control characters.
#[derive(Clone, Debug)]
pub struct TokenName(String);

impl TokenName {
    /// Trims and checks the label.
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        if value.is_empty() {
            return Err("Name the token after where you will use it, e.g. \"laptop\".".into());
        }
        if value.chars().count() > 60 {
            return Err("Use at most 60 characters.".into());
        }
        if value.chars().any(char::is_control) {
            return Err("Use letters, digits, spaces and punctuation only.".into());
        }
        Ok(Self(value.to_string()))
    }

    /// The label as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a token could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// The account already holds [`MAX_ACTIVE`] live tokens.
    #[error("you already have {MAX_ACTIVE} active tokens; revoke one first")]
    TooMany,
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Creates a token for `user_id`; returns it with its secret, which is not
/// stored anywhere and cannot be shown again.
pub async fn create(
    db: &PgPool,
    user_id: i64,
    name: &TokenName,
) -> Result<(ApiToken, String), CreateError> {
    let mut tx = db.begin().await?;
    // Serialises concurrent creations for one account so the cap holds.
    users::lock(&mut tx, user_id).await?;
    let active = sqlx::query_scalar!(
        r#"SELECT count(*) AS "active!" FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL"#,
        user_id,
    )
    .fetch_one(&mut *tx)
    .await?;
    if active >= MAX_ACTIVE {
        return Err(CreateError::TooMany);
    }
    let secret = format!("{PREFIX}{}", secret::random_token());
    let token = sqlx::query_as!(
        ApiToken,
        "INSERT INTO api_tokens (user_id, name, token_hash) VALUES ($1, $2, $3)
         RETURNING id, name, created_at, last_used_at, revoked_at",
        user_id,
        name.as_str(),
        secret::digest(&secret),
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((token, secret))
}

/// `user_id`'s tokens, newest first, revoked ones included.
pub async fn list(db: &PgPool, user_id: i64) -> Result<Vec<ApiToken>, sqlx::Error> {
    sqlx::query_as!(
        ApiToken,
        "SELECT id, name, created_at, last_used_at, revoked_at FROM api_tokens
          WHERE user_id = $1 ORDER BY id DESC",
        user_id,
    )
    .fetch_all(db)
    .await
}

/// Revokes `user_id`'s token `token_id`; `false` if there is no such live
/// token *of theirs* (someone else's id is treated as unknown).
pub async fn revoke(db: &PgPool, user_id: i64, token_id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE api_tokens SET revoked_at = now()
          WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
        token_id,
        user_id,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The account a live token belongs to.
pub async fn authenticate(db: &PgPool, token: &str) -> Result<Option<User>, sqlx::Error> {
    let Some(random) = token.strip_prefix(PREFIX) else {
        return Ok(None);
    };
    if !secret::is_token_shaped(random) {
        return Ok(None);
    }
    let row = sqlx::query!(
        r#"SELECT t.id AS token_id, t.last_used_at, u.id, u.email, u.display_name,
                  u.role AS "role: Role"
             FROM api_tokens t JOIN users u ON u.id = t.user_id
            WHERE t.token_hash = $1 AND t.revoked_at IS NULL"#,
        secret::digest(token),
    )
    .fetch_optional(db)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let stale = row
        .last_used_at
        .is_none_or(|at| OffsetDateTime::now_utc() - at > LAST_USED_PRECISION);
    if stale {
        sqlx::query!(
            "UPDATE api_tokens SET last_used_at = now() WHERE id = $1",
            row.token_id
        )
        .execute(db)
        .await?;
    }
    Ok(Some(User {
        id: row.id,
        email: row.email,
        display_name: row.display_name,
        role: row.role,
    }))
}
