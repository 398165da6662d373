//! What every handler shares: [`AppState`], and the limits every route
//! lives under. The state is built once per web node, at start-up
//! ([`AppState::build`]).

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;

use crate::curriculum::Programme;
use crate::web::assets::Assets;

/// Largest request body any route accepts (a submission is capped lower, with a clear message).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Requests that take longer than this are answered with 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Everything a handler may need, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Sessions, their cache and the log-in throttle (see [`crate::auth`]).
    pub auth: Arc<crate::auth::Auth>,
    /// The database pool.
    pub db: PgPool,
    /// The programme, loaded once.
    pub programme: Arc<Programme>,
    /// Fingerprinted static files.
    pub assets: Arc<Assets>,
    /// Job events for live pages (see [`crate::web::events`]).
    pub events: Arc<crate::web::events::EventHub>,
    /// The grading queue's fair-use rules.
    pub jobs: crate::grading::queue::JobLimits,
    /// Reverse proxies whose forwarding headers name the client
    /// (`--trusted-proxy`; see [`crate::web::visitor`]).
    pub trusted_proxies: Arc<[crate::config::ProxyNetwork]>,
    /// The process's metrics and readiness (see [`crate::metrics`]).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The crates learner code compiles against, at the grader's versions
    /// (for `lockstep learn download`; empty when `--grader-deps` is unreadable).
    pub crates: Arc<crate::grading::deps::PinnedCrates>,
    /// Password reset by mail and single sign-on, when configured.
    pub sign_in: Arc<crate::auth::SignInMethods>,
}
