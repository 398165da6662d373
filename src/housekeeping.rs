//! Housekeeping: a background task of every web node that purges expired
//! sessions and old drafts (see [`crate::progress::drafts::purge_old`]) at
//! start-up and then periodically, until the application shuts down.
//! Several web nodes may run it at once: the purges are plain `DELETE`s.

use std::time::Duration;

use sqlx::PgPool;

use crate::config::Housekeeping;
use crate::shutdown::Shutdown;

/// What one pass removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    /// Expired sessions.
    pub sessions: u64,
    /// Old drafts.
    pub drafts: u64,
}

/// One purge pass.
pub async fn purge(db: &PgPool, settings: &Housekeeping) -> sqlx::Result<Purged> {
    Ok(Purged {
        sessions: crate::auth::session::purge_expired(db).await?,
        drafts: crate::progress::drafts::purge_old(
            db,
            settings.draft_retention_days,
            settings.unpassed_draft_retention_days,
        )
        .await?,
    })
}

/// Runs a pass now and then every `purge_interval_seconds` until `shutdown`.
pub async fn run(db: PgPool, settings: Housekeeping, shutdown: Shutdown) {
    let period = Duration::from_secs(settings.purge_interval_seconds.max(1));
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = shutdown.cancelled() => return,
        }
        let pass = tokio::select! {
            pass = purge(&db, &settings) => pass,
            () = shutdown.cancelled() => return,
        };
        match pass {
            Ok(purged) if purged.sessions + purged.drafts > 0 => tracing::info!(
                sessions = purged.sessions,
                drafts = purged.drafts,
                "purged expired sessions and old drafts"
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "the purge of sessions and drafts failed"),
        }
    }
}
