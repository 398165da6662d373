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
//! password is reset by a one-use link sent by mail ([`password_reset`]).
//! Single sign-on with an OpenID provider ([`oidc`]) signs in to accounts
//! linked by the provider's identity ([`identities`]). Operators manage accounts with `lockstep user …`
//! ([`commands`]).

pub mod api_tokens;
pub mod cohorts;
pub mod commands;
pub mod identities;
pub mod oidc;
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
/// reset link by mail, single sign-on), as configured
/// ([`crate::config::AccountSettings`]).
#[derive(Debug, Default)]
pub struct SignInMethods {
    /// Where people reach Lockstep (`--public-url`): links are made from it.
    pub public_url: Option<String>,
    /// The SMTP relay for reset links.
    pub mailer: Option<crate::mail::Mailer>,
    /// The OpenID provider, discovered at start-up.
    pub single_sign_on: Option<oidc::SingleSignOn>,
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
        let single_sign_on =
            oidc::SingleSignOn::discover(&settings.single_sign_on, settings.public_url.as_deref())
                .await?;
        Ok(Self {
            public_url: settings.public_url.clone(),
            mailer,
            single_sign_on,
        })
    }

    /// The relay and the public URL, when password reset is offered (never
    /// with `--sso-only`: there are no local passwords to reset).
    pub fn password_reset(&self) -> Option<(&crate::mail::Mailer, &str)> {
        if !self.local_passwords() {
            return None;
        }
        self.mailer.as_ref().zip(self.public_url.as_deref())
    }

    /// Whether local passwords may be used (log-in, sign-up): not with `--sso-only`.
    pub fn local_passwords(&self) -> bool {
        !self.single_sign_on.as_ref().is_some_and(|sso| sso.sso_only)
    }

    /// The single sign-on button's label, when single sign-on is configured.
    pub fn single_sign_on_name(&self) -> Option<&str> {
        self.single_sign_on.as_ref().map(|sso| sso.name.as_str())
    }
}
