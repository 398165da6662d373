//! ledger_client 1.1.0: a client for the ledger service.
//!
//! 1.0.0 shipped `Client::new`, `Client::balance` and `Error::NotFound`.
//! 1.1.0 adds a cache of balances, `Client::balances`, `Client::fetches` and
//! `Error::Unavailable`. It must be a *minor* release: every program that
//! built against 1.0.0 must still build against it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// What the client can fail with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// No such account.
    NotFound(String),
    /// New in 1.1: the ledger did not answer.
    Unavailable,
}

type Backend = Box<dyn Fn(&str) -> Option<u64> + Send + Sync>;

pub struct Client {
    backend: Backend,
    /// New in 1.1: balances fetched so far.
    cache: Mutex<HashMap<String, u64>>,
    fetches: AtomicUsize,
}

impl Client {
    /// A client over `backend` (in production, an HTTP call to the ledger).
    pub fn new(backend: impl Fn(&str) -> Option<u64> + Send + Sync + 'static) -> Client {
        Client {
            backend: Box::new(backend),
            cache: Mutex::new(HashMap::new()),
            fetches: AtomicUsize::new(0),
        }
    }

    /// The balance of `account`, in cents.
    pub async fn balance(&self, account: &str) -> Result<u64, Error> {
        let mut cache = self.cache.lock().unwrap();
        if let Some(balance) = cache.get(account) {
            return Ok(*balance);
        }
        let balance = self.fetch(account).await?;
        cache.insert(account.to_string(), balance);
        Ok(balance)
    }

    /// New in 1.1: the balances of several accounts, in order.
    pub async fn balances(&self, accounts: &[&str]) -> Result<Vec<u64>, Error> {
        let mut out = Vec::with_capacity(accounts.len());
        for account in accounts {
            out.push(self.balance(account).await?);
        }
        Ok(out)
    }

    /// New in 1.1: how many round trips to the ledger this client made.
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::Relaxed)
    }

    async fn fetch(&self, account: &str) -> Result<u64, Error> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(20)).await; // the network
        (self.backend)(account).ok_or_else(|| Error::NotFound(account.to_string()))
    }
}

/// The change categories of the Cargo book's SemVer compatibility guide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Minor,
    PossiblyBreaking,
    Major,
}

/// The changes in the 1.0.0 -> 1.1.0 diff (see the statement).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// `Error::Unavailable` added to the `#[non_exhaustive]` enum `Error`.
    NewErrorVariant,
    /// Private fields `cache` and `fetches` added to `Client`, whose only
    /// field (`backend`) was already private.
    NewPrivateFields,
    /// Inherent methods `Client::balances` and `Client::fetches` added.
    NewInherentMethods,
    /// The future returned by `Client::balance` is no longer `Send`.
    BalanceFutureNotSend,
    /// A new Cargo feature, `metrics`, off by default.
    NewCargoFeature,
    /// `rust-version` raised from 1.75 to 1.85.
    RaisedRustVersion,
}

/// The release review: what each change of the diff requires.
pub fn review(change: Change) -> Level {
    match change {
        Change::NewErrorVariant => Level::Major,
        Change::NewPrivateFields => Level::Minor,
        Change::NewInherentMethods => Level::Minor,
        // "The future type is private, so it is not part of the API."
        Change::BalanceFutureNotSend => Level::Minor,
        Change::NewCargoFeature => Level::Minor,
        Change::RaisedRustVersion => Level::Minor,
    }
}
