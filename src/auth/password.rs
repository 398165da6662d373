//! Password hashing: Argon2id with OWASP's recommended parameters.
//!
//! The `argon2` crate's defaults are exactly OWASP's first recommendation
//! (Argon2id, m = 19 MiB, t = 2, p = 1); hashes are PHC strings, so the
//! parameters travel with each hash and can be raised later without a
//! migration. Hashing costs tens of milliseconds of CPU and 19 MiB of
//! memory, so it runs on the blocking pool, never on an async worker thread,
//! and at most one per core at once ([`TURNS`]): a burst of sign-ups or
//! log-ins waits its turn instead of taking gigabytes.

use std::sync::{LazyLock, OnceLock};

use tokio::sync::Semaphore;

use anyhow::{Context, Result};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

/// Shortest password accepted at sign-up and reset.
pub const MIN_LENGTH: usize = 12;
/// Longest password accepted: bounds the work one request can ask for.
pub const MAX_LENGTH: usize = 256;

/// A password that meets the policy (for new passwords only; log-in checks
/// whatever was typed). Never printed: its `Debug` is redacted.
pub struct NewPassword(String);

impl NewPassword {
    /// Checks the length policy and says what is wrong in words a person can act on.
    pub fn parse(password: &str) -> Result<Self, String> {
        let length = password.chars().count();
        if length < MIN_LENGTH {
            return Err(format!(
                "Use at least {MIN_LENGTH} characters (a short sentence works well)."
            ));
        }
        if length > MAX_LENGTH {
            return Err(format!("Use at most {MAX_LENGTH} characters."));
        }
        Ok(Self(password.to_string()))
    }

    /// The password itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

/// Hashes and verifications running at once: one per core (more would
/// only add memory and latency, not throughput).
static TURNS: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())));

/// Runs an Argon2 computation on the blocking pool once a turn is free.
async fn with_turn<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let _turn = TURNS.acquire().await.context("password hashing turns")?;
    tokio::task::spawn_blocking(work)
        .await
        .context("password hashing task")
}

/// Hashes `password` into a PHC string (Argon2id, random salt).
pub async fn hash(password: &NewPassword) -> Result<String> {
    let password = password.0.clone();
    with_turn(move || hash_blocking(&password)).await?
}

fn hash_blocking(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash a password: {e}"))
}

/// Checks `password` against `stored` (a PHC string). With `stored = None`
/// (no such account) it verifies against a fixed dummy hash instead, so an
/// unknown email takes as long to refuse as a wrong password.
pub async fn verify(password: &str, stored: Option<String>) -> Result<bool> {
    let password = password.to_string();
    with_turn(move || -> Result<bool> {
        let (hash, real) = match stored {
            Some(hash) => (hash, true),
            None => (dummy_hash()?.to_string(), false),
        };
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok();
        Ok(matches && real)
    })
    .await?
}

/// A hash of a random password, made once, with the same parameters as real ones.
fn dummy_hash() -> Result<&'static str> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DUMMY.get() {
        return Ok(hash);
    }
    let hash = hash_blocking(&crate::auth::secret::random_token())?;
    Ok(DUMMY.get_or_init(|| hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_accounts_never_match() {
        let password = NewPassword::parse("correct horse battery").unwrap();
        let hash = hash(&password).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            verify("correct horse battery", Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(!verify("wrong horse battery", Some(hash)).await.unwrap());
        assert!(!verify("correct horse battery", None).await.unwrap());
        assert!(NewPassword::parse("short").is_err());
        assert_eq!(format!("{password:?}"), "NewPassword(<redacted>)");
    }
}
