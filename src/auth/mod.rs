//! Accounts, sessions, roles, API tokens and cohorts: who may do what.
//!
//! This module knows nothing of HTTP: the web layer (`web::visitor`,
//! `web::csrf`, `web::extract`) turns cookies and headers into a visitor
//! with these types, and asks [`can_view_learner`] before showing anyone's
//! work.
//!
//! Passwords are Argon2id ([`password`]); sessions live in PostgreSQL with a
//! short in-process cache ([`session`]); log-in and sign-up attempts are
//! throttled with counters in PostgreSQL ([`rate_limit`]). Operators manage accounts with `lockstep user …`
//! ([`commands`]).

pub mod api_tokens;
pub mod cohorts;
pub mod commands;
pub mod password;
pub mod rate_limit;
pub mod secret;
pub mod session;
pub mod users;

pub use cohorts::can_view_learner;
pub use users::{Role, User};

/// The authentication state a web node holds once (in its `AppState`).
#[derive(Default)]
pub struct Auth {
    /// Sessions and their cache.
    pub sessions: session::SessionStore,
    /// Allowances of log-in and sign-up attempts.
    pub limits: rate_limit::Limits,
    /// Grading jobs per learner.
    pub submission_limiter: rate_limit::SubmissionLimiter,
}
