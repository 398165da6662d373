//! A non-blocking concurrency gate: at most `max` permits out at once.
//! Used to cap in-flight requests to a fragile upstream: callers that cannot
//! get a permit fail fast instead of queueing.

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
    pub fn try_acquire(&self) -> Option<Permit<'_>> {
        // Check and increment in one atomic step: compare_exchange only
        // succeeds if nobody changed the count since we read it.
        let admitted = self.in_flight.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            if n < self.max { Some(n + 1) } else { None }
        });
        match admitted {
            Ok(previous) => {
                self.peak.fetch_max(previous + 1, Ordering::AcqRel);
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
        self.in_flight.load(Ordering::Acquire)
    }

    /// The largest number of permits ever held at the same time.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Acquire)
    }

    /// How many `try_acquire` calls were turned away.
    pub fn rejected(&self) -> usize {
        self.rejected.load(Ordering::Relaxed)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.gate.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}
