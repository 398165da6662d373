//! checks in_flight < max with a load, then increments with a separate fetch_add: two threads can both pass the check
//! A non-blocking concurrency gate: at most `max` permits out at once.
//! Used to cap in-flight requests to a fragile upstream: callers that cannot
//! get a permit fail fast instead of queueing. With `max = 1` it is a
//! try-lock: the permit holder owns the resource the gate guards.

// Under the loom model checker (the tests compile everything with `--cfg loom`)
// the atomics are loom's instrumented ones; in a normal build, the std ones.
#[cfg(loom)]
use loom::sync::atomic::{AtomicUsize, Ordering};
#[cfg(not(loom))]
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Gate {
    max: usize,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
    rejected: AtomicUsize,
}

/// Proof of admission. Dropping it gives the slot back.
pub struct Permit<'a> {
    gate: &'a Gate,
}

impl Gate {
    pub fn new(max: usize) -> Self {
        Gate {
            max,
            in_flight: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            rejected: AtomicUsize::new(0),
        }
    }

    /// Takes a slot if fewer than `max` are in use; never blocks.
    ///
    /// The contract:
    /// 1. at no moment are more than `max` permits held;
    /// 2. a permit hands over: everything a holder wrote before dropping its
    ///    permit is visible to whoever takes the slot after it (so, with
    ///    `max = 1`, the gate guards data like a lock does);
    /// 3. `peak()` is the largest number of permits ever held at once;
    /// 4. every refused call is counted in `rejected()`.
    pub fn try_acquire(&self) -> Option<Permit<'_>> {
        // Check and increment in one atomic step (a compare-exchange loop).
        // Acquire on success: pairs with the Release in `Permit::drop`.
        let admitted = if self.in_flight.load(Ordering::Relaxed) < self.max {
            Ok(self.in_flight.fetch_add(1, Ordering::Acquire))
        } else {
            Err(self.max)
        };
        match admitted {
            Ok(previous) => {
                // A statistic: atomicity matters here, ordering does not.
                self.peak.fetch_max(previous + 1, Ordering::Relaxed);
                Some(Permit { gate: self })
            }
            Err(_) => {
                self.rejected.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Permits currently held.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// The largest number of permits ever held at the same time.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// How many `try_acquire` calls were turned away.
    pub fn rejected(&self) -> usize {
        self.rejected.load(Ordering::Relaxed)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        // Release: the holder's writes happen-before the next Acquire that
        // reads this (or a later) value of `in_flight`.
        self.gate.in_flight.fetch_sub(1, Ordering::Release);
    }
}
