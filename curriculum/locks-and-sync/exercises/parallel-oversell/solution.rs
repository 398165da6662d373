//! The box office: every request handler (a task on the multi-threaded
//! runtime) sells tickets through one shared `BoxOffice`.

use std::sync::Mutex;

/// Where the stock lives: a synchronous embedded store, safe to call from
/// many threads (each call is atomic on its own) and fast enough to call
/// from async code. In the tests, a fake.
pub trait StockStore: Send + Sync {
    /// Tickets left for `event`.
    fn read(&self, event: &str) -> u32;
    /// Sets the tickets left for `event`.
    fn write(&self, event: &str, left: u32);
}

pub struct BoxOffice<S> {
    store: S,
    /// Held across each read-check-write, so no two sales interleave. A std
    /// Mutex is right here: the critical section is short and has no `.await`.
    selling: Mutex<()>,
}

impl<S: StockStore> BoxOffice<S> {
    pub fn new(store: S) -> Self {
        BoxOffice { store, selling: Mutex::new(()) }
    }

    /// Sells `n` tickets for `event` if at least `n` are left; returns
    /// whether it sold them. Never sells a ticket twice.
    pub fn sell(&self, event: &str, n: u32) -> bool {
        // On a multi-threaded runtime two handlers run *at the same time* on
        // two workers: "no .await in between" does not make this atomic.
        let _selling = self.selling.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let left = self.store.read(event);
        if left < n {
            return false;
        }
        self.store.write(event, left - n);
        true
    }

    /// Tickets left for `event`.
    pub fn left(&self, event: &str) -> u32 {
        self.store.read(event)
    }
}
