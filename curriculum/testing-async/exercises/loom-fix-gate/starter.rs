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
        if self.in_flight.load(Ordering::Acquire) >= self.max {
            self.rejected.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let now = self.in_flight.fetch_add(1, Ordering::AcqRel) + 1;
        if now > self.peak.load(Ordering::Acquire) {
            self.peak.store(now, Ordering::Release);
        }
        Some(Permit { gate: self })
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
