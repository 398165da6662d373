// Under the loom model checker (the tests compile everything with `--cfg loom`)
// we use loom's instrumented atomics; in a normal build, the std ones.
#[cfg(loom)]
use loom::sync::atomic::{AtomicBool, AtomicU64, Ordering, fence};
#[cfg(not(loom))]
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering, fence};

/// One thread's own record of the atomic operations it performed, in its
/// program order, with what each load returned. Every thread keeps its own
/// `Trace`: nothing in it is shared, so it adds no synchronisation.
#[derive(Debug)]
pub struct Trace {
    pub who: &'static str,
    pub lines: Vec<String>,
}

impl Trace {
    pub fn new(who: &'static str) -> Self {
        Trace { who, lines: Vec::new() }
    }
}

// One atomic operation each, recorded with the ordering it used.
fn store_u64(t: &mut Trace, name: &str, a: &AtomicU64, v: u64, order: Ordering) {
    a.store(v, order);
    t.lines.push(format!("{name}.store({v}, {order:?})"));
}
fn load_u64(t: &mut Trace, name: &str, a: &AtomicU64, order: Ordering) -> u64 {
    let v = a.load(order);
    t.lines.push(format!("{name}.load({order:?}) -> {v}"));
    v
}
fn store_flag(t: &mut Trace, name: &str, a: &AtomicBool, v: bool, order: Ordering) {
    a.store(v, order);
    t.lines.push(format!("{name}.store({v}, {order:?})"));
}
fn load_flag(t: &mut Trace, name: &str, a: &AtomicBool, order: Ordering) -> bool {
    let v = a.load(order);
    t.lines.push(format!("{name}.load({order:?}) -> {v}"));
    v
}
#[allow(dead_code)]
fn traced_fence(t: &mut Trace, order: Ordering) {
    fence(order);
    t.lines.push(format!("fence({order:?})"));
}

/// A sensor's reading: two words that must be read together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    pub seq: u64,
    pub millicelsius: u64,
}

/// A one-shot slot: one thread publishes a reading once, any thread polls it.
pub struct Mailbox {
    seq: AtomicU64,
    millicelsius: AtomicU64,
    ready: AtomicBool,
}

impl Default for Mailbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Mailbox {
    pub fn new() -> Self {
        Mailbox {
            seq: AtomicU64::new(0),
            millicelsius: AtomicU64::new(0),
            ready: AtomicBool::new(false),
        }
    }

    /// Writes the reading, then raises `ready`. Called at most once.
    pub fn publish(&self, r: Reading, t: &mut Trace) {
        store_u64(t, "seq", &self.seq, r.seq, Ordering::Relaxed);
        store_u64(t, "millicelsius", &self.millicelsius, r.millicelsius, Ordering::Relaxed);
        store_flag(t, "ready", &self.ready, true, Ordering::Relaxed);
    }

    /// `Some(reading)` once it is published, `None` before.
    pub fn poll(&self, t: &mut Trace) -> Option<Reading> {
        if !load_flag(t, "ready", &self.ready, Ordering::Relaxed) {
            return None;
        }
        let seq = load_u64(t, "seq", &self.seq, Ordering::Relaxed);
        let millicelsius = load_u64(t, "millicelsius", &self.millicelsius, Ordering::Relaxed);
        Some(Reading { seq, millicelsius })
    }
}

/// Polls every mailbox and returns the readings published so far.
///
/// A dashboard polls hundreds of mailboxes per refresh, and most are not ready:
/// check the flags first, each with a `Relaxed` load, and pay for ordering only
/// when at least one is ready.
pub fn collect(boxes: &[Mailbox], t: &mut Trace) -> Vec<Option<Reading>> {
    let ready: Vec<bool> = boxes
        .iter()
        .map(|b| load_flag(t, "ready", &b.ready, Ordering::Relaxed))
        .collect();
    boxes
        .iter()
        .zip(ready)
        .map(|(b, ready)| {
            ready.then(|| Reading {
                seq: load_u64(t, "seq", &b.seq, Ordering::Relaxed),
                millicelsius: load_u64(t, "millicelsius", &b.millicelsius, Ordering::Relaxed),
            })
        })
        .collect()
}
