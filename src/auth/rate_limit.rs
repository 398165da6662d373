//! Throttles: log-in and sign-up attempts, per account and per client
//! address, counted in PostgreSQL; and grading jobs per learner, in memory.
//!
//! Log-in and sign-up counters live in `throttle_counters`, so every web
//! node behind a load balancer counts against the same allowance and a
//! restart forgets nothing. Each attempt is counted **before** it is judged,
//! in one atomic upsert per attempt: a burst of parallel guesses is counted
//! exactly, and only the allowance of them ever reaches the (costly) password
//! check; the rest get 429 with `Retry-After` until the window ends.
//!
//! Log-in attempts are counted three ways, so that a guesser cannot lock the
//! account's owner out: per account *and* address (the tight allowance: one
//! source guessing one account), per address (one source trying many
//! accounts), and per account from anywhere (a wide backstop against guesses
//! spread over many addresses). A guesser at one address exhausts only its
//! own allowances; the owner, elsewhere, still signs in. A successful log-in
//! clears the account's counts and gives the address its attempt back.
//!
//! Addresses are counted as the client's (see `web::visitor` for proxies);
//! IPv6 addresses by their /64, since one subscriber usually holds a whole
//! /64 and could otherwise rotate through it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::PgPool;

/// The allowances of log-in and sign-up attempts.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Length of a log-in counting window.
    pub login_window: Duration,
    /// Log-in attempts per account from one address per window.
    pub per_account_and_address: i32,
    /// Log-in attempts per account from all addresses per window.
    pub per_account: i32,
    /// Log-in attempts per address per window.
    pub per_address: i32,
    /// Length of a sign-up counting window.
    pub signup_window: Duration,
    /// Sign-ups per address per window.
    pub signups_per_address: i32,
    /// Password-reset requests per address per sign-up window.
    pub resets_per_address: i32,
    /// Password-reset requests per account (email) per sign-up window.
    pub resets_per_account: i32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            login_window: Duration::from_secs(15 * 60),
            per_account_and_address: 10,
            per_account: 100,
            per_address: 50,
            signup_window: Duration::from_secs(60 * 60),
            signups_per_address: 20,
            resets_per_address: 20,
            resets_per_account: 5,
        }
    }
}

/// An attempt refused: how long until the next may be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused {
    /// Until the fullest window ends.
    pub retry_after: Duration,
}

/// How an address is counted: IPv4 as itself, IPv6 by its /64 prefix.
pub fn address_key(address: IpAddr) -> String {
    match crate::config::unmapped(address) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !(u128::MAX >> 64);
            format!("{}/64", std::net::Ipv6Addr::from(prefix))
        }
    }
}

fn account_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Counts a log-in attempt for `email` from `address`; `Err` when any of
/// its allowances is used up (the password must then not be checked).
pub async fn attempt_log_in(
    db: &PgPool,
    limits: &Limits,
    email: &str,
    address: Option<IpAddr>,
) -> Result<Result<(), Refused>, sqlx::Error> {
    let account = account_key(email);
    let mut keys = vec![(format!("login:account:{account}"), limits.per_account)];
    if let Some(address) = address.map(address_key) {
        keys.push((
            format!("login:account-address:{account} {address}"),
            limits.per_account_and_address,
        ));
        keys.push((format!("login:address:{address}"), limits.per_address));
    }
    count(db, &keys, limits.login_window).await
}

/// After a successful log-in: the account's counts are cleared, and the
/// address gets this attempt back (a classroom behind one address signs in
/// without using up its allowance).
pub async fn logged_in(
    db: &PgPool,
    email: &str,
    address: Option<IpAddr>,
) -> Result<(), sqlx::Error> {
    let account = account_key(email);
    let address = address.map(address_key);
    let cleared = vec![
        format!("login:account:{account}"),
        format!(
            "login:account-address:{account} {}",
            address.as_deref().unwrap_or_default()
        ),
    ];
    let refunded = address.map(|a| format!("login:address:{a}"));
    sqlx::query!(
        "WITH cleared AS (DELETE FROM throttle_counters WHERE key = ANY($1))
         UPDATE throttle_counters SET attempts = greatest(attempts - 1, 0) WHERE key = $2",
        &cleared,
        refunded,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Counts a sign-up from `address` (before its password is hashed); `Err`
/// when the address has used its allowance.
pub async fn attempt_sign_up(
    db: &PgPool,
    limits: &Limits,
    address: Option<IpAddr>,
) -> Result<Result<(), Refused>, sqlx::Error> {
    let Some(address) = address.map(address_key) else {
        return Ok(Ok(()));
    };
    let keys = [(
        format!("signup:address:{address}"),
        limits.signups_per_address,
    )];
    count(db, &keys, limits.signup_window).await
}

/// Counts a password-reset request for `email` from `address` (before
/// anything is looked up or mailed); `Err` when the address or the account
/// has used its allowance. The answer does not depend on whether the account
/// exists.
pub async fn attempt_password_reset(
    db: &PgPool,
    limits: &Limits,
    email: &str,
    address: Option<IpAddr>,
) -> Result<Result<(), Refused>, sqlx::Error> {
    let mut keys = vec![(
        format!("reset:account:{}", account_key(email)),
        limits.resets_per_account,
    )];
    if let Some(address) = address.map(address_key) {
        keys.push((
            format!("reset:address:{address}"),
            limits.resets_per_address,
        ));
    }
    count(db, &keys, limits.signup_window).await
}

/// Adds one attempt to each key, atomically, and says whether every key is
/// still within its allowance.
async fn count(
    db: &PgPool,
    keys: &[(String, i32)],
    window: Duration,
) -> Result<Result<(), Refused>, sqlx::Error> {
    // One fixed order, so two statements over the same keys cannot deadlock.
    let mut sorted: Vec<&(String, i32)> = keys.iter().collect();
    sorted.sort();
    let names: Vec<String> = sorted.iter().map(|(key, _)| key.clone()).collect();
    let counted = sqlx::query!(
        r#"INSERT INTO throttle_counters AS c (key, window_started_at, attempts)
           SELECT key, now(), 1 FROM UNNEST($1::text[]) AS key
           ON CONFLICT (key) DO UPDATE SET
               window_started_at = CASE WHEN c.window_started_at <= now() - make_interval(secs => $2)
                                        THEN now() ELSE c.window_started_at END,
               attempts = CASE WHEN c.window_started_at <= now() - make_interval(secs => $2)
                               THEN 1 ELSE c.attempts + 1 END
           RETURNING key AS "key!", attempts AS "attempts!",
                     extract(epoch FROM window_started_at + make_interval(secs => $2) - now())::float8
                         AS "seconds_left!""#,
        &names,
        window.as_secs_f64(),
    )
    .fetch_all(db)
    .await?;
    if rand_byte() == 0 {
        sweep(db, window).await?;
    }
    let allowance: HashMap<&str, i32> = keys.iter().map(|(k, a)| (k.as_str(), *a)).collect();
    let wait = counted
        .iter()
        .filter(|row| row.attempts > allowance.get(row.key.as_str()).copied().unwrap_or(0))
        .map(|row| row.seconds_left.max(1.0))
        .fold(None, |most: Option<f64>, left| {
            Some(most.map_or(left, |m| m.max(left)))
        });
    Ok(match wait {
        Some(seconds) => Err(Refused {
            retry_after: Duration::from_secs_f64(seconds.ceil()),
        }),
        None => Ok(()),
    })
}

/// Deletes counters whose window ended long ago (about one call in 256
/// does it, so the table stays small without a background task).
async fn sweep(db: &PgPool, window: Duration) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM throttle_counters
          WHERE window_started_at < now() - make_interval(secs => $1) - interval '1 day'",
        window.as_secs_f64(),
    )
    .execute(db)
    .await?;
    Ok(())
}

fn rand_byte() -> u8 {
    let mut byte = [0u8; 1];
    getrandom::fill(&mut byte).expect("the operating system's random number generator");
    byte[0]
}

/// One counting window of [`SubmissionLimiter`]: when it began and how many
/// jobs it has counted.
struct Window {
    started: Instant,
    count: u32,
}

/// Past this many tracked learners, finished windows are swept.
const SWEEP_AT: usize = 50_000;

/// Grading jobs a learner may start per window, before 429.
///
/// In memory and per process: it exists to keep one
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
    fn ipv6_addresses_count_per_64_and_mapped_ipv4_as_ipv4() {
        let a = address_key("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = address_key("2001:db8:1:2:ffff::9".parse().unwrap());
        assert_eq!(a, b);
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_ne!(a, address_key("2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(
            address_key("::ffff:192.0.2.1".parse().unwrap()),
            "192.0.2.1"
        );
        assert_eq!(address_key("192.0.2.1".parse().unwrap()), "192.0.2.1");
    }
}
