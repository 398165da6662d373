//! Live progress for browsers: PostgreSQL `NOTIFY` → one listener per web
//! node → a broadcast channel → one server-sent-events stream per page.
//!
//! Workers may run on other machines; they announce every change of a job on
//! the `lockstep_events` channel (see [`crate::grading::queue`]). Each web
//! node holds a single `LISTEN` connection and fans the events out in memory,
//! so a thousand open pages cost one database connection, not a thousand.
//!
//! The same connection listens for changes to accounts' credentials
//! ([`crate::auth::session::CREDENTIALS_CHANNEL`]: log-out, password reset,
//! role change, a token revoked). Each one evicts the account's cached
//! sessions on this node, and each open stream of that account checks that
//! the session or token it was opened with still works, and ends if not.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;

use crate::auth::cohorts::learners_taught_by;
use crate::auth::session::CREDENTIALS_CHANNEL;
use crate::auth::{Auth, Role, api_tokens, session};
use crate::grading::job::JobEvent;
use crate::grading::queue::EVENTS_CHANNEL;
use crate::shutdown::{AbortOnDrop, Shutdown};
use crate::web::AppState;
use crate::web::CurrentUser;
use crate::web::error::AppError;
use crate::web::visitor::Visitor;

/// Events kept for a slow page before it starts missing some (it then
/// re-reads the submission over plain HTTP).
const BUFFER: usize = 1024;
/// How often an instructor's set of visible learners is refreshed.
const AUDIENCE_REFRESH: Duration = Duration::from_secs(30);

/// The fan-out point for job events on this node. It lives until the
/// node's shutdown: then its listener stops and every open stream ends, so
/// the server's graceful shutdown is not held up by pages that never
/// disconnect on their own.
pub struct EventHub {
    sender: broadcast::Sender<JobEvent>,
    /// Ids of accounts whose credentials changed.
    credentials: broadcast::Sender<i64>,
    shutdown: Shutdown,
}

impl EventHub {
    /// A hub that closes its streams when `shutdown` begins.
    pub fn new(shutdown: Shutdown) -> Self {
        Self {
            sender: broadcast::channel(BUFFER).0,
            credentials: broadcast::channel(BUFFER).0,
            shutdown,
        }
    }

    /// Listens for job events until the shutdown begins, reconnecting after
    /// database outages.
    pub fn spawn_listener(self: &Arc<Self>, db: PgPool) -> tokio::task::JoinHandle<()> {
        let hub = self.clone();
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    result = hub.listen(&db) => {
                        if let Err(error) = result {
                            tracing::warn!(%error, "event listener lost its connection; reconnecting");
                        }
                    }
                    () = shutdown.cancelled() => return,
                }
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    () = shutdown.cancelled() => return,
                }
            }
        })
    }

    async fn listen(&self, db: &PgPool) -> sqlx::Result<()> {
        let mut listener = PgListener::connect_with(db).await?;
        listener
            .listen_all([EVENTS_CHANNEL, CREDENTIALS_CHANNEL])
            .await?;
        loop {
            let notification = listener.recv().await?;
            if notification.channel() == CREDENTIALS_CHANNEL {
                match notification.payload().parse::<i64>() {
                    Ok(user_id) => drop(self.credentials.send(user_id)),
                    Err(error) => tracing::warn!(%error, "unreadable credentials event"),
                }
                continue;
            }
            match serde_json::from_str::<JobEvent>(notification.payload()) {
                // No receivers is fine: nobody is watching right now.
                Ok(event) => drop(self.sender.send(event)),
                Err(error) => tracing::warn!(%error, "unreadable job event"),
            }
        }
    }

    /// Evicts an account's cached sessions from `auth` whenever its
    /// credentials change (on any node, or in `lockstep user …`), until the
    /// shutdown begins.
    pub fn spawn_session_evictor(&self, auth: Arc<Auth>) -> tokio::task::JoinHandle<()> {
        let mut changes = self.credentials.subscribe();
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            loop {
                let changed = tokio::select! {
                    changed = changes.recv() => changed,
                    () = shutdown.cancelled() => return,
                };
                match changed {
                    Ok(user_id) => auth.sessions.forget_user(user_id),
                    // Missed some: forget every cached session to be sure.
                    Err(broadcast::error::RecvError::Lagged(_)) => auth.sessions.forget_all(),
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        })
    }

    /// A receiver of every job event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<JobEvent> {
        self.sender.subscribe()
    }
}

/// Whose events a viewer may receive.
enum Audience {
    Everyone,
    Learners { ids: HashSet<i64>, fetched: Instant },
}

impl Audience {
    async fn of(user: &CurrentUser, db: &PgPool) -> sqlx::Result<Self> {
        if user.role == Role::Admin {
            return Ok(Audience::Everyone);
        }
        let mut ids: HashSet<i64> = if user.role.can_teach() {
            learners_taught_by(db, user.id).await?.into_iter().collect()
        } else {
            HashSet::new()
        };
        ids.insert(user.id);
        Ok(Audience::Learners {
            ids,
            fetched: Instant::now(),
        })
    }

    fn includes(&self, event: &JobEvent) -> bool {
        match self {
            Audience::Everyone => true,
            Audience::Learners { ids, .. } => event.user_id.is_some_and(|id| ids.contains(&id)),
        }
    }

    fn stale(&self) -> bool {
        matches!(self, Audience::Learners { fetched, .. } if fetched.elapsed() > AUDIENCE_REFRESH)
    }
}

/// What a stream was opened with, re-checked when the account's
/// credentials change.
enum Credential {
    Session(String),
    Token(i64),
}

impl Credential {
    fn of(visitor: &Visitor) -> Option<Self> {
        match (&visitor.api_token, &visitor.session_key) {
            (Some(grant), _) => Some(Credential::Token(grant.token_id)),
            (None, Some(key)) => Some(Credential::Session(key.clone())),
            (None, None) => None,
        }
    }

    async fn is_live(&self, db: &PgPool) -> sqlx::Result<bool> {
        match self {
            Credential::Session(key) => session::is_live(db, key).await,
            Credential::Token(id) => api_tokens::is_live(db, *id).await,
        }
    }
}

/// `GET /api/events`: server-sent events (`event: job`, data: [`JobEvent`]
/// JSON) for the viewer's own submissions, and for instructors those of
/// their cohorts' learners. Pages fall back to polling `GET
/// /api/submissions/{id}` when the stream is unavailable. The stream ends
/// when the session or token it was opened with ends.
#[utoipa::path(
    get,
    path = "/api/events",
    tag = "grading",
    responses(
        (status = 200, description = "`text/event-stream`: `event: job` with `{id, user_id, exercise_id, status, phase, outcome}` for each change of one of your submissions; `event: lagged` when some were missed (re-read them)", content_type = "text/event-stream"),
        (status = 401, description = "No valid session or API token"),
    ),
    security(("api_token" = ["read"]))
)]
pub async fn stream(
    State(state): State<AppState>,
    user: CurrentUser,
    visitor: Visitor,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let credential = Credential::of(&visitor).ok_or(AppError::Unauthorized)?;
    let mut receiver = state.events.subscribe();
    let mut credential_changes = state.events.credentials.subscribe();
    let shutdown = state.events.shutdown.clone();
    let mut audience = Audience::of(&user, &state.db).await?;
    let db = state.db.clone();
    let (page, to_page) = tokio::sync::mpsc::channel::<Event>(16);
    // One task per open page filters the node's events for this viewer; it
    // ends when the page goes away (its channel closes), the stream is
    // dropped, or the node shuts down (which ends the stream in turn).
    let filter = AbortOnDrop::spawn(async move {
        loop {
            let received = tokio::select! {
                received = receiver.recv() => received,
                changed = credential_changes.recv() => {
                    let concerns_us = match changed {
                        Ok(user_id) => user_id == user.id,
                        Err(broadcast::error::RecvError::Lagged(_)) => true,
                        Err(broadcast::error::RecvError::Closed) => return,
                    };
                    // A failed check ends the stream too: the page reconnects
                    // and is authenticated afresh.
                    if concerns_us && !credential.is_live(&db).await.unwrap_or(false) {
                        return;
                    }
                    continue;
                }
                () = shutdown.cancelled() => return,
            };
            let event = match received {
                Ok(event) => event,
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    // Tell the page to re-read what it shows.
                    let lagged = Event::default().event("lagged").data(missed.to_string());
                    if page.send(lagged).await.is_err() {
                        return;
                    }
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            };
            if audience.stale()
                && let Ok(fresh) = Audience::of(&user, &db).await
            {
                audience = fresh;
            }
            if audience.includes(&event)
                && let Ok(data) = serde_json::to_string(&event)
                && page
                    .send(Event::default().event("job").data(data))
                    .await
                    .is_err()
            {
                return;
            }
        }
    });
    // Counted as open for as long as the response stream lives.
    let open = state.metrics.sse_stream_opened();
    let events = futures::stream::unfold(
        (to_page, filter, open),
        |(mut to_page, filter, open)| async move {
            to_page
                .recv()
                .await
                .map(|event| (Ok(event), (to_page, filter, open)))
        },
    );
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
