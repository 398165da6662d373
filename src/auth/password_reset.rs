//! Password reset by a link sent by mail: a random token, stored as its
//! digest with an expiry, that can set the account's password once.
//!
//! The link carries 256 random bits the server issued and recorded (only
//! its SHA-256 is stored, like session ids), so it cannot be forged or
//! guessed; it stops working after [`LIFETIME`], after one use, and when
//! the password changes by any other way. Using it ends every session and
//! revokes every API token of the account ([`super::users::replace_password`]).

use std::time::Duration;

use sqlx::PgPool;

use super::secret;
use super::users::{Role, User};

/// How long a reset link works.
pub const LIFETIME: Duration = Duration::from_secs(30 * 60);

/// Records a new reset token for `user_id` and returns it (to be mailed,
/// never stored).
pub async fn issue(db: &PgPool, user_id: i64) -> Result<String, sqlx::Error> {
    let token = secret::random_token();
    sqlx::query!(
        "INSERT INTO password_resets (token_hash, user_id, expires_at)
         VALUES ($1, $2, now() + make_interval(secs => $3))",
        secret::digest(&token),
        user_id,
        LIFETIME.as_secs_f64(),
    )
    .execute(db)
    .await?;
    // Spent and expired tokens are of no use to anyone.
    sqlx::query!("DELETE FROM password_resets WHERE expires_at < now() - interval '1 day'")
        .execute(db)
        .await?;
    Ok(token)
}

/// The account a live (unused, unexpired) token would reset.
pub async fn find(db: &PgPool, token: &str) -> Result<Option<User>, sqlx::Error> {
    if !secret::is_token_shaped(token) {
        return Ok(None);
    }
    sqlx::query_as!(
        User,
        r#"SELECT u.id AS "id!", u.email AS "email!", u.display_name AS "display_name!",
                  u.role AS "role!: Role"
             FROM password_resets r JOIN users u ON u.id = r.user_id
            WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > now()"#,
        secret::digest(token),
    )
    .fetch_optional(db)
    .await
}

/// Uses `token` to set the password hash `password_hash`: in one
/// transaction the token is spent (a second use finds nothing), the
/// password replaced, the account's other reset tokens dropped, its
/// sessions ended and API tokens revoked. `None` when the token is not live.
pub async fn redeem(
    db: &PgPool,
    token: &str,
    password_hash: &str,
) -> Result<Option<User>, sqlx::Error> {
    if !secret::is_token_shaped(token) {
        return Ok(None);
    }
    let mut tx = db.begin().await?;
    let user_id = sqlx::query_scalar!(
        r#"UPDATE password_resets SET used_at = now()
          WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
          RETURNING user_id AS "user_id!""#,
        secret::digest(token),
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(user_id) = user_id else {
        return Ok(None);
    };
    let user = super::users::replace_password(&mut tx, user_id, password_hash).await?;
    tx.commit().await?;
    Ok(Some(user))
}

/// Drops `user_id`'s unused reset tokens (its password just changed), in
/// the caller's transaction.
pub async fn drop_pending(tx: &mut sqlx::PgConnection, user_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM password_resets WHERE user_id = $1 AND used_at IS NULL",
        user_id
    )
    .execute(tx)
    .await?;
    Ok(())
}
