//! Log-in throttling, per account and per client address.
//!
//! Failed log-ins are counted in fixed windows; once an account or an address
//! has used its allowance, further attempts are refused with 429 and a
//! `Retry-After` until the window ends — before any password is checked, so
//! a guesser gains nothing by continuing. A successful log-in clears the
//! account's count.
//!
//! The counters live **in memory, per process**: they reset when the server
//! restarts, and each `serve` node behind a load balancer counts on its own
//! (an attacker spreading over N nodes gets N allowances). That is an
//! accepted trade-off for now; a shared limit would move these counters to
//! PostgreSQL.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The allowances.
#[derive(Clone, Copy, Debug)]
pub struct LoginLimits {
    /// Length of a counting window.
    pub window: Duration,
    /// Failed attempts allowed per account (email, any case) per window.
    pub per_account: u32,
    /// Failed attempts allowed per client address per window.
    pub per_address: u32,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(15 * 60),
            per_account: 10,
            per_address: 50,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Address(IpAddr),
}

/// One counting window: when it began and what it has counted (failed
/// log-ins, or grading jobs started).
struct Window {
    started: Instant,
    count: u32,
}

/// Counts failed log-ins; see the module documentation.
pub struct LoginLimiter {
    limits: LoginLimits,
    // Held for a map operation only, never across an `.await`.
    windows: Mutex<HashMap<Key, Window>>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self::new(LoginLimits::default())
    }
}

/// Past this many tracked keys, finished windows are swept.
const SWEEP_AT: usize = 50_000;

impl LoginLimiter {
    /// A limiter with these allowances.
    pub fn new(limits: LoginLimits) -> Self {
        Self {
            limits,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(wait)` when `email` or `address` has no attempts left.
    pub fn check(&self, email: &str, address: Option<IpAddr>) -> Result<(), Duration> {
        let windows = self.lock();
        let now = Instant::now();
        let mut wait = None;
        for (key, allowance) in self.keys(email, address) {
            if let Some(window) = windows.get(&key) {
                let age = now.duration_since(window.started);
                if age < self.limits.window && window.count >= allowance {
                    let left = self.limits.window - age;
                    wait = Some(wait.map_or(left, |w: Duration| w.max(left)));
                }
            }
        }
        wait.map_or(Ok(()), Err)
    }

    /// Counts a failed attempt against `email` and `address`.
    pub fn record_failure(&self, email: &str, address: Option<IpAddr>) {
        let mut windows = self.lock();
        let now = Instant::now();
        if windows.len() >= SWEEP_AT {
            let length = self.limits.window;
            windows.retain(|_, w| now.duration_since(w.started) < length);
        }
        for (key, _) in self.keys(email, address) {
            let window = windows.entry(key).or_insert(Window {
                started: now,
                count: 0,
            });
            if now.duration_since(window.started) >= self.limits.window {
                *window = Window {
                    started: now,
                    count: 0,
                };
            }
            window.count += 1;
        }
    }

    /// Clears the account's count after a successful log-in (the address
    /// keeps its count: one address trying many accounts stays throttled).
    pub fn record_success(&self, email: &str) {
        self.lock()
            .remove(&Key::Account(email.trim().to_lowercase()));
    }

    fn keys(&self, email: &str, address: Option<IpAddr>) -> Vec<(Key, u32)> {
        let mut keys = vec![(
            Key::Account(email.trim().to_lowercase()),
            self.limits.per_account,
        )];
        if let Some(address) = address {
            keys.push((Key::Address(address), self.limits.per_address));
        }
        keys
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Window>> {
        self.windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Grading jobs a learner may start per window, before 429.
///
/// In memory and per process, like [`LoginLimiter`]: it exists to keep one
/// learner (or a runaway editor plugin) from filling the queue, not as a
/// cluster-wide quota.
pub struct SubmissionLimiter {
    window: Duration,
    allowance: u32,
    // Held for a map operation only, never across an `.await`.
    windows: Mutex<HashMap<i64, Window>>,
}

impl Default for SubmissionLimiter {
    fn default() -> Self {
        Self::new(Duration::from_secs(60), 30)
    }
}

impl SubmissionLimiter {
    /// `allowance` jobs per `window` per learner.
    pub fn new(window: Duration, allowance: u32) -> Self {
        Self {
            window,
            allowance,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a job for `user_id`, or `Err(wait)` when the allowance is used up.
    pub fn try_acquire(&self, user_id: i64) -> Result<(), Duration> {
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        if windows.len() >= SWEEP_AT {
            let length = self.window;
            windows.retain(|_, w| now.duration_since(w.started) < length);
        }
        let window = windows.entry(user_id).or_insert(Window {
            started: now,
            count: 0,
        });
        if now.duration_since(window.started) >= self.window {
            *window = Window {
                started: now,
                count: 0,
            };
        }
        if window.count >= self.allowance {
            return Err(self.window - now.duration_since(window.started));
        }
        window.count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_and_addresses_run_out_separately() {
        let limiter = LoginLimiter::new(LoginLimits {
            window: Duration::from_secs(60),
            per_account: 2,
            per_address: 3,
        });
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(limiter.check("a@x.io", Some(ip)).is_ok());
        limiter.record_failure("a@x.io", Some(ip));
        limiter.record_failure("A@x.io ", Some(ip));
        let wait = limiter.check("a@x.io", None).unwrap_err();
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(50));
        // Another account from the same address has one attempt left.
        assert!(limiter.check("b@x.io", Some(ip)).is_ok());
        limiter.record_failure("b@x.io", Some(ip));
        assert!(limiter.check("c@x.io", Some(ip)).is_err());
        assert!(
            limiter
                .check("c@x.io", Some("192.0.2.2".parse().unwrap()))
                .is_ok()
        );
        limiter.record_success("b@x.io");
        assert!(limiter.check("b@x.io", None).is_ok());
    }
}
