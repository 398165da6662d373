//! Accounts, sessions, roles, CSRF, API tokens and cohorts: who may do what.
//!
//! How a request is checked, outermost first (wired in [`crate::app::router`]):
//! 1. [`visitor::identify`] finds the [`Visitor`] from a Bearer API token or
//!    the session cookie, and writes cookies on the way out;
//! 2. [`csrf::guard`] refuses a state-changing request without the visitor's
//!    CSRF token (unless it came with an API token);
//! 3. handlers ask for [`CurrentUser`] or [`MaybeUser`], and for data about
//!    a learner, [`can_view_learner`].
//!
//! Passwords are Argon2id ([`password`]); sessions live in PostgreSQL with a
//! short in-process cache ([`session`]); log-in attempts are throttled in
//! memory ([`rate_limit`]). Operators manage accounts with `lockstep user …`
//! ([`commands`]).

pub mod api_tokens;
pub mod cohorts;
pub mod commands;
pub mod csrf;
pub mod extract;
pub mod password;
pub mod rate_limit;
pub mod secret;
pub mod session;
pub mod users;
pub mod visitor;

pub use cohorts::can_view_learner;
pub use extract::{CurrentUser, MaybeUser, require_signed_in};
pub use users::{Role, User};
pub use visitor::Visitor;

/// The authentication state the app holds once (in [`crate::app::AppState`]).
#[derive(Default)]
pub struct Auth {
    /// Sessions and their cache.
    pub sessions: session::SessionStore,
    /// Failed log-in counters.
    pub login_limiter: rate_limit::LoginLimiter,
    /// Grading jobs per learner.
    pub submission_limiter: rate_limit::SubmissionLimiter,
}
