//! Accounts, sessions, roles, API tokens and cohorts: who may do what.
//!
//! This module knows nothing of HTTP: the web layer (`web::visitor`,
//! `web::csrf`, `web::extract`) turns cookies and headers into a visitor
//! with these types, and asks [`can_view_learner`] before showing anyone's
//! work.
//!
//! Passwords are Argon2id ([`password`]); sessions live in PostgreSQL with a
//! short in-process cache ([`session`]); log-in and sign-up attempts are
//! throttled with counters in PostgreSQL ([`rate_limit`]). A forgotten
//! password is reset by a one-use link sent by mail ([`password_reset`]). Operators manage accounts with `lockstep user …`
//! ([`commands`]).

pub mod api_tokens;
pub mod cohorts;
pub mod commands;
pub mod password;
pub mod password_reset;
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

/// The ways into an account a web node offers besides a local password (a
/// reset link by mail), as configured ([`crate::config::AccountSettings`]).
#[derive(Debug, Default)]
pub struct SignInMethods {
    /// Where people reach Lockstep (`--public-url`): links are made from it.
    pub public_url: Option<String>,
    /// The SMTP relay for reset links.
    pub mailer: Option<crate::mail::Mailer>,
}

impl SignInMethods {
    /// Checks the settings and sets up what they name; a setting that
    /// needs another one missing is an error.
    pub async fn configure(settings: &crate::config::AccountSettings) -> anyhow::Result<Self> {
        let mailer = match &settings.smtp_url {
            Some(url) => {
                let Some(public_url) = &settings.public_url else {
                    anyhow::bail!("--smtp-url needs --public-url: the links in mail point there");
                };
                let from = settings.mail_from.clone().unwrap_or_else(|| {
                    let host = public_url.split("://").nth(1).unwrap_or("localhost");
                    let host = host.split([':', '/']).next().unwrap_or("localhost");
                    format!("Lockstep <lockstep@{host}>")
                });
                Some(crate::mail::Mailer::new(url, &from)?)
            }
            None => None,
        };
        Ok(Self {
            public_url: settings.public_url.clone(),
            mailer,
        })
    }

    /// The relay and the public URL, when password reset is offered.
    pub fn password_reset(&self) -> Option<(&crate::mail::Mailer, &str)> {
        self.mailer.as_ref().zip(self.public_url.as_deref())
    }
}
