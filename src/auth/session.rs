//! Server-side sessions on the `sessions` table, with a small cache in front.
//!
//! The cookie carries a random 256-bit id; the table stores only its SHA-256
//! digest (the session's *key*), so reading the table does not let anyone
//! sign in. A session lives [`LIFETIME`] after its last use (a sliding
//! window), and never longer than [`ABSOLUTE_LIFETIME`] after it began (a
//! stolen cookie kept busy does not live forever); to keep page views from
//! writing, the expiry is pushed forward at most once per [`REFRESH_AFTER`].
//!
//! The cache keeps a looked-up session for [`CACHE_TTL`] so a page view does
//! not always cost a query. It is per process: log-out and password resets
//! evict the entry here at once; another `serve` node — and any server
//! after `lockstep user set-role` or `reset-password`, which run in their own
//! process — catches up within `CACHE_TTL`, which bounds how long a stale
//! entry can live — and less in practice: every change to an account's
//! credentials (log-out, password reset, role change, a token revoked) is
//! announced on [`CREDENTIALS_CHANNEL`], and each web node evicts that
//! account's cached sessions and ends the event streams they opened.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use time::OffsetDateTime;

use crate::auth::secret;
use crate::auth::users::{Role, User};

/// How long a session lasts after its last use.
pub const LIFETIME: Duration = Duration::from_secs(14 * 24 * 60 * 60);
/// How long a session lasts after it began, however busy it is.
pub const ABSOLUTE_LIFETIME: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// The `NOTIFY` channel on which an account id is announced when its
/// sessions or tokens change.
pub const CREDENTIALS_CHANNEL: &str = "lockstep_credentials";
/// How stale the stored expiry may get before a request pushes it forward.
pub const REFRESH_AFTER: Duration = Duration::from_secs(60 * 60);
/// How long a looked-up session is trusted without asking the database.
pub const CACHE_TTL: Duration = Duration::from_secs(10);
/// Past this many cached sessions, expired entries are swept (then, if still
/// full, everything): memory stays bounded whatever clients send.
const CACHE_CAPACITY: usize = 10_000;

/// A signed-in session.
#[derive(Clone, Debug)]
pub struct Session {
    /// The digest of the cookie's id: `sessions.id`.
    pub key: String,
    /// Who is signed in.
    pub user: User,
    /// The token every state-changing request of this session must carry.
    pub csrf_token: String,
    /// When the session ends unless used again.
    pub expires_at: OffsetDateTime,
    /// The expiry cannot slide further: it is the absolute end.
    pub at_absolute_end: bool,
}

struct Cached {
    session: Session,
    fetched_at: Instant,
}

/// Creates, finds and ends sessions.
#[derive(Default)]
pub struct SessionStore {
    // A std Mutex is right here: it is held for a map operation only, never
    // across an `.await`, so it cannot block the runtime or deadlock a task.
    cache: Mutex<HashMap<String, Cached>>,
}

impl SessionStore {
    /// Starts a session for `user` and returns the cookie's id with it. Each
    /// log-in gets a fresh id (no session fixation); the user's expired
    /// sessions are cleaned up on the way.
    pub async fn start(&self, db: &PgPool, user: &User) -> Result<(String, Session), sqlx::Error> {
        let id = secret::random_token();
        let key = secret::digest(&id);
        let csrf_token = secret::random_token();
        let mut tx = db.begin().await?;
        sqlx::query!(
            "DELETE FROM sessions WHERE user_id = $1 AND expires_at <= now()",
            user.id
        )
        .execute(&mut *tx)
        .await?;
        let expires_at = sqlx::query_scalar!(
            "INSERT INTO sessions (id, user_id, csrf_token, expires_at)
             VALUES ($1, $2, $3, now() + make_interval(secs => $4)) RETURNING expires_at",
            key,
            user.id,
            csrf_token,
            LIFETIME.as_secs_f64(),
        )
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        let session = Session {
            key,
            user: user.clone(),
            csrf_token,
            expires_at,
            at_absolute_end: false,
        };
        self.remember(&session);
        Ok((id, session))
    }

    /// The live session whose cookie id is `id`, and whether its expiry was
    /// just pushed forward (then the cookie should be re-sent too).
    pub async fn find(
        &self,
        db: &PgPool,
        id: &str,
    ) -> Result<Option<(Session, bool)>, sqlx::Error> {
        if !secret::is_token_shaped(id) {
            return Ok(None);
        }
        let key = secret::digest(id);
        let now = OffsetDateTime::now_utc();
        let cached = self.cached(&key).filter(|s| s.expires_at > now);
        let mut session = match cached {
            Some(session) => session,
            None => {
                let row = sqlx::query!(
                    r#"SELECT s.csrf_token, s.expires_at, u.id AS user_id, u.email, u.display_name,
                              u.role AS "role: Role"
                         FROM sessions s JOIN users u ON u.id = s.user_id
                        WHERE s.id = $1 AND s.expires_at > now()
                          AND s.created_at > now() - make_interval(secs => $2)"#,
                    key,
                    ABSOLUTE_LIFETIME.as_secs_f64(),
                )
                .fetch_optional(db)
                .await?;
                let Some(row) = row else {
                    self.forget(&key);
                    return Ok(None);
                };
                let session = Session {
                    key,
                    user: User {
                        id: row.user_id,
                        email: row.email,
                        display_name: row.display_name,
                        role: row.role,
                    },
                    csrf_token: row.csrf_token,
                    expires_at: row.expires_at,
                    // Learnt at the next refresh, which this only saves.
                    at_absolute_end: false,
                };
                self.remember(&session);
                session
            }
        };
        let refresh_due =
            session.expires_at - now < LIFETIME - REFRESH_AFTER && !session.at_absolute_end;
        if refresh_due {
            // Slides, but not past the absolute end.
            let row = sqlx::query!(
                r#"UPDATE sessions
                      SET expires_at = least(now() + make_interval(secs => $2),
                                             created_at + make_interval(secs => $3))
                    WHERE id = $1
                RETURNING expires_at,
                          expires_at >= created_at + make_interval(secs => $3) AS "at_end!""#,
                session.key,
                LIFETIME.as_secs_f64(),
                ABSOLUTE_LIFETIME.as_secs_f64(),
            )
            .fetch_optional(db)
            .await?;
            let Some(row) = row else {
                // Ended elsewhere (log-out on another node) since it was cached.
                self.forget(&session.key);
                return Ok(None);
            };
            session.expires_at = row.expires_at;
            session.at_absolute_end = row.at_end;
            self.remember(&session);
        }
        Ok(Some((session, refresh_due)))
    }

    /// Ends the session with this key: the row is deleted, so the cookie is
    /// worthless even if replayed, and the event streams it opened end.
    pub async fn end(&self, db: &PgPool, key: &str) -> Result<(), sqlx::Error> {
        self.forget(key);
        let mut tx = db.begin().await?;
        let user_id =
            sqlx::query_scalar!("DELETE FROM sessions WHERE id = $1 RETURNING user_id", key)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(user_id) = user_id {
            announce_credentials_changed(&mut tx, user_id).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Drops every cached session of `user_id` (its credentials changed,
    /// perhaps in another process): the next request asks the database.
    pub fn forget_user(&self, user_id: i64) {
        self.lock()
            .retain(|_, cached| cached.session.user.id != user_id);
    }

    /// Drops every cached session (after missing some credential changes).
    pub fn forget_all(&self) {
        self.lock().clear();
    }

    fn cached(&self, key: &str) -> Option<Session> {
        let cache = self.lock();
        let cached = cache.get(key)?;
        (cached.fetched_at.elapsed() < CACHE_TTL).then(|| cached.session.clone())
    }

    fn remember(&self, session: &Session) {
        let mut cache = self.lock();
        if cache.len() >= CACHE_CAPACITY {
            cache.retain(|_, cached| cached.fetched_at.elapsed() < CACHE_TTL);
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
        }
        cache.insert(
            session.key.clone(),
            Cached {
                session: session.clone(),
                fetched_at: Instant::now(),
            },
        );
    }

    fn forget(&self, key: &str) {
        self.lock().remove(key);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cached>> {
        // A panic while holding the lock cannot leave the map half-updated in
        // a way that matters (entries are whole values), so poisoning is ignored.
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Ends every session of `user_id` (a password reset: whoever knew the old
/// password is signed out), in the caller's transaction; the caller
/// announces it ([`announce_credentials_changed`]).
pub async fn end_all(tx: &mut sqlx::PgConnection, user_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM sessions WHERE user_id = $1", user_id)
        .execute(tx)
        .await?;
    Ok(())
}

/// Tells every web node, when the caller's transaction commits, that
/// `user_id`'s sessions or tokens changed (see the module documentation).
pub async fn announce_credentials_changed(
    tx: &mut sqlx::PgConnection,
    user_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "SELECT pg_notify($1, $2)",
        CREDENTIALS_CHANNEL,
        user_id.to_string()
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// Whether the session with this key is still live (not ended or expired).
pub async fn is_live(db: &PgPool, key: &str) -> Result<bool, sqlx::Error> {
    let live = sqlx::query_scalar!(
        r#"SELECT count(*) AS "live!" FROM sessions
            WHERE id = $1 AND expires_at > now()
              AND created_at > now() - make_interval(secs => $2)"#,
        key,
        ABSOLUTE_LIFETIME.as_secs_f64(),
    )
    .fetch_one(db)
    .await?;
    Ok(live > 0)
}

/// Deletes every expired session (a periodic purge; log-in only cleans up
/// the signing-in user's). Returns how many went.
pub async fn purge_expired(db: &PgPool) -> sqlx::Result<u64> {
    let deleted = sqlx::query!("DELETE FROM sessions WHERE expires_at <= now()")
        .execute(db)
        .await?;
    Ok(deleted.rows_affected())
}
