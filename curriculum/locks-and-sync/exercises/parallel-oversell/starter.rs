//! The box office: every request handler (a task on the multi-threaded
//! runtime) sells tickets through one shared `BoxOffice`.

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
}

impl<S: StockStore> BoxOffice<S> {
    pub fn new(store: S) -> Self {
        BoxOffice { store }
    }

    /// Sells `n` tickets for `event` if at least `n` are left; returns
    /// whether it sold them. Never sells a ticket twice.
    pub fn sell(&self, event: &str, n: u32) -> bool {
        // There is no `.await` between the read and the write, so no other
        // task can run in between... can it?
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
