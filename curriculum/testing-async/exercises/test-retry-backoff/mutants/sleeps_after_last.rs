//! sleeps once more after the final failed attempt before giving up

use std::future::Future;
use std::time::Duration;

/// The error an operation can fail with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// Worth retrying: a timeout, a 503, a reset connection.
    Transient(String),
    /// Not worth retrying: a 404, a validation error, bad credentials.
    Permanent(String),
}

impl FetchError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, FetchError::Transient(_))
    }
}

/// How hard to try.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Total number of calls to the operation, including the first one (>= 1).
    pub max_attempts: u32,
    /// Delay after the first failed attempt; doubles after every further failure.
    pub base_delay: Duration,
    /// No single delay is longer than this.
    pub max_delay: Duration,
}

/// Calls `op` until it returns `Ok`, returns a non-retryable error, or has
/// been called `policy.max_attempts` times. Between attempts it sleeps
/// (with `tokio::time::sleep`) `base_delay`, then `2 * base_delay`,
/// `4 * base_delay`, ... each capped at `max_delay`.
/// It never sleeps after the last attempt. On failure it returns the last error.
pub async fn retry<T, F, Fut>(policy: &RetryPolicy, mut op: F) -> Result<T, FetchError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, FetchError>>,
{
    let mut delay = policy.base_delay;
    let mut attempt = 1;
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if !e.is_retryable() => return Err(e),
            Err(e) if attempt >= policy.max_attempts => {
                tokio::time::sleep(delay.min(policy.max_delay)).await;
                return Err(e);
            }
            Err(_) => {
                tokio::time::sleep(delay.min(policy.max_delay)).await;
                delay = delay.saturating_mul(2);
                attempt += 1;
            }
        }
    }
}
