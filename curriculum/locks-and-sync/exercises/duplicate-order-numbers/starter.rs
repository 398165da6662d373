//! Order numbers: every checkout handler (a task on the multi-threaded
//! runtime) takes the next number from one shared allocator.

use std::sync::atomic::{AtomicU64, Ordering};

/// A durable journal of issued numbers, so that a restart never reuses
/// one. Synchronous and thread-safe; a call takes a moment (a disk write).
pub trait Journal: Send + Sync {
    fn record(&self, number: u64);
}

pub struct OrderNumbers<J> {
    last: AtomicU64,
    journal: J,
}

impl<J: Journal> OrderNumbers<J> {
    /// Numbers start at `last + 1`.
    pub fn new(last: u64, journal: J) -> Self {
        OrderNumbers { last: AtomicU64::new(last), journal }
    }

    /// The next order number. Every number is handed out at most once, and
    /// is recorded in the journal before it is handed out.
    pub fn next(&self) -> u64 {
        // Only move `last` once the number is safely journaled.
        let number = self.last.load(Ordering::Relaxed) + 1;
        self.journal.record(number);
        self.last.store(number, Ordering::Relaxed);
        number
    }
}
