// Under the loom model checker (the tests compile everything with `--cfg loom`)
// we use loom's instrumented types; in a normal build, the std ones.
#[cfg(loom)]
use loom::sync::{
    Mutex,
    atomic::{AtomicUsize, Ordering},
};
#[cfg(not(loom))]
use std::sync::{
    Mutex,
    atomic::{AtomicUsize, Ordering},
};
use std::fmt::Debug;

/// A fixed number of seats, sold without a lock on the hot path.
pub struct Seats {
    sold: AtomicUsize,
    capacity: usize,
    trace: Mutex<Vec<String>>,
}

impl Seats {
    pub fn new(capacity: usize) -> Self {
        Seats { sold: AtomicUsize::new(0), capacity, trace: Mutex::new(Vec::new()) }
    }

    /// Starts with `sold` seats already sold (used by the tests).
    pub fn with_sold(capacity: usize, sold: usize) -> Self {
        Seats { sold: AtomicUsize::new(sold), capacity, trace: Mutex::new(Vec::new()) }
    }

    /// Performs ONE atomic operation `op` on the `sold` counter on behalf of thread
    /// `who`, and appends "who: what -> result" to the trace. The tests print the
    /// trace when they fail, so you can see the interleaving that broke your code.
    ///
    /// (The trace lock is held during `op` only so that the trace is in the true
    /// order of the operations. Pretend it does not exist: one atomic operation per
    /// call, never a whole check-then-write inside one closure.)
    fn traced<R: Debug>(&self, who: &str, what: &str, op: impl FnOnce(&AtomicUsize) -> R) -> R {
        let mut trace = self.trace.lock().unwrap();
        let result = op(&self.sold);
        trace.push(format!("{who}: {what} -> {result:?}"));
        result
    }

    pub fn trace(&self) -> Vec<String> {
        self.trace.lock().unwrap().clone()
    }

    pub fn sold(&self) -> usize {
        self.sold.load(Ordering::SeqCst)
    }

    /// Reserves one seat and returns its number (0-based), or `None` if sold out.
    pub fn try_reserve(&self, who: &str) -> Option<usize> {
        let current = self.traced(who, "load", |sold| sold.load(Ordering::SeqCst));
        if current >= self.capacity {
            return None;
        }
        self.traced(who, &format!("store {}", current + 1), |sold| sold.store(current + 1, Ordering::SeqCst));
        Some(current)
    }

    /// Gives one seat back. Returns `false` (and changes nothing) if none are sold.
    pub fn cancel(&self, who: &str) -> bool {
        let current = self.traced(who, "load", |sold| sold.load(Ordering::SeqCst));
        if current == 0 {
            return false;
        }
        self.traced(who, &format!("store {}", current - 1), |sold| sold.store(current - 1, Ordering::SeqCst));
        true
    }
}
