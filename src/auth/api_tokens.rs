//! Personal API tokens (`Authorization: Bearer lst_…`) for the JSON API, so a
//! command-line client or an editor plugin can work without a browser.
//!
//! A token is shown once, at creation; the `api_tokens` table keeps only its
//! SHA-256 digest. Requests carrying a token need no CSRF token: a browser
//! never attaches one on its own, so a forged cross-site request cannot
//! carry it.
//!
//! A token has a [`TokenScope`] (read-only, e.g. for an instructor's export
//! script, or also submitting code) and may expire. It cannot manage tokens
//! (that takes a browser session, so a leaked token cannot mint others), and
//! every token of an account is revoked when its password is reset or its
//! role changes ([`revoke_all`]).

use sqlx::PgPool;
use time::OffsetDateTime;

use crate::auth::secret;
use crate::auth::session;
use crate::auth::users::{self, Role, User};

/// What every token starts with, so a leaked one is recognisable (secret scanners).
pub const PREFIX: &str = "lst_";
/// Live tokens one account may hold.
pub const MAX_ACTIVE: i64 = 20;
/// `last_used_at` is written at most this often per token, so API calls do not all write.
const LAST_USED_PRECISION: time::Duration = time::Duration::minutes(1);

/// What a token may do (`api_tokens.scope`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum TokenScope {
    /// Read only: `GET` requests (progress, exports, verdicts).
    Read,
    /// Also state-changing requests: handing in code, drafts, hints, joining cohorts.
    Submit,
}

impl TokenScope {
    /// Parses the account page's choice (`read` or `submit`).
    pub fn parse(value: &str) -> Result<Self, String> {
        match value.trim() {
            "read" => Ok(TokenScope::Read),
            "submit" => Ok(TokenScope::Submit),
            _ => Err("Choose what the token may do: read only, or also submit code.".into()),
        }
    }

    /// How the account page names it.
    pub fn label(self) -> &'static str {
        match self {
            TokenScope::Read => "read only",
            TokenScope::Submit => "read and submit",
        }
    }
}

/// Longest lifetime a token may be given, in days.
pub const MAX_LIFETIME_DAYS: i64 = 365;

/// Parses the account page's lifetime: empty for a token that does not
/// expire, or a number of days from 1 to [`MAX_LIFETIME_DAYS`].
pub fn parse_lifetime(value: &str) -> Result<Option<time::Duration>, String> {
    let value = value.trim();
    if value.is_empty() || value == "never" {
        return Ok(None);
    }
    match value.parse::<i64>() {
        Ok(days) if (1..=MAX_LIFETIME_DAYS).contains(&days) => Ok(Some(time::Duration::days(days))),
        _ => Err(format!(
            "Give the token a lifetime of 1 to {MAX_LIFETIME_DAYS} days, or none."
        )),
    }
}

/// What authenticated a request: which token, and what it may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant {
    /// `api_tokens.id`
    pub token_id: i64,
    /// What it may do.
    pub scope: TokenScope,
}

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
    /// What it may do.
    pub scope: TokenScope,
    /// When it stops working, if ever.
    pub expires_at: Option<OffsetDateTime>,
}

impl ApiToken {
    /// Whether it has expired.
    pub fn expired(&self) -> bool {
        self.expires_at
            .is_some_and(|at| at <= OffsetDateTime::now_utc())
    }
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

/// Creates a token for `user_id` with `scope`, expiring after `lifetime`
/// (never with `None`); returns it with its secret, which is not stored
/// anywhere and cannot be shown again.
pub async fn create(
    db: &PgPool,
    user_id: i64,
    name: &TokenName,
    scope: TokenScope,
    lifetime: Option<time::Duration>,
) -> Result<(ApiToken, String), CreateError> {
    let mut tx = db.begin().await?;
    // Serialises concurrent creations for one account so the cap holds.
    users::lock(&mut tx, user_id).await?;
    let active = sqlx::query_scalar!(
        r#"SELECT count(*) AS "active!" FROM api_tokens
            WHERE user_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())"#,
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
        r#"INSERT INTO api_tokens (user_id, name, token_hash, scope, expires_at)
           VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
           RETURNING id, name, created_at, last_used_at, revoked_at,
                     scope AS "scope: TokenScope", expires_at"#,
        user_id,
        name.as_str(),
        secret::digest(&secret),
        scope as TokenScope,
        lifetime.map(|l| l.as_seconds_f64()),
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
        r#"SELECT id, name, created_at, last_used_at, revoked_at,
                  scope AS "scope: TokenScope", expires_at
             FROM api_tokens WHERE user_id = $1 ORDER BY id DESC"#,
        user_id,
    )
    .fetch_all(db)
    .await
}

/// Revokes `user_id`'s token `token_id`; `false` if there is no such live
/// token *of theirs* (someone else's id is treated as unknown). Event
/// streams it opened end.
pub async fn revoke(db: &PgPool, user_id: i64, token_id: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let done = sqlx::query!(
        "UPDATE api_tokens SET revoked_at = now()
          WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
        token_id,
        user_id,
    )
    .execute(&mut *tx)
    .await?;
    session::announce_credentials_changed(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes every live token of `user_id` (a password reset or a role
/// change: what was granted under the old terms ends), in the caller's
/// transaction.
pub async fn revoke_all(tx: &mut sqlx::PgConnection, user_id: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
        user_id,
    )
    .execute(tx)
    .await?;
    Ok(done.rows_affected())
}

/// Whether token `token_id` still works (not revoked, not expired).
pub async fn is_live(db: &PgPool, token_id: i64) -> Result<bool, sqlx::Error> {
    let live = sqlx::query_scalar!(
        r#"SELECT count(*) AS "live!" FROM api_tokens
            WHERE id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())"#,
        token_id,
    )
    .fetch_one(db)
    .await?;
    Ok(live > 0)
}

/// The account a live token belongs to, and what the token may do.
pub async fn authenticate(db: &PgPool, token: &str) -> Result<Option<(User, Grant)>, sqlx::Error> {
    let Some(random) = token.strip_prefix(PREFIX) else {
        return Ok(None);
    };
    if !secret::is_token_shaped(random) {
        return Ok(None);
    }
    let row = sqlx::query!(
        r#"SELECT t.id AS token_id, t.last_used_at, t.scope AS "scope: TokenScope",
                  u.id, u.email, u.display_name, u.role AS "role: Role"
             FROM api_tokens t JOIN users u ON u.id = t.user_id
            WHERE t.token_hash = $1 AND t.revoked_at IS NULL
              AND (t.expires_at IS NULL OR t.expires_at > now())"#,
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
    let user = User {
        id: row.id,
        email: row.email,
        display_name: row.display_name,
        role: row.role,
    };
    let grant = Grant {
        token_id: row.token_id,
        scope: row.scope,
    };
    Ok(Some((user, grant)))
}
