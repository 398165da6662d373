//! Loom models of `Gate`'s contract. Every test body runs inside
//! `loom::model`, which re-runs it under every interleaving that the
//! preemption bound allows, and with each value loom's model of the memory
//! orderings lets a load return.

use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use loom_fix_gate::*;

#[test]
fn one_thread_basics() {
    loom::model(|| {
        let gate = Gate::new(2);
        let a = gate.try_acquire().expect("first permit of 2");
        let b = gate.try_acquire().expect("second permit of 2");
        assert!(gate.try_acquire().is_none(), "a third permit must be refused when max = 2");
        assert_eq!(gate.in_flight(), 2);
        drop(a);
        let c = gate.try_acquire().expect("a released slot can be taken again");
        drop((b, c));
        assert_eq!(gate.in_flight(), 0);
        assert_eq!(gate.peak(), 2);
        assert_eq!(gate.rejected(), 1);
    });
}

#[test]
fn two_threads_never_exceed_max_of_one() {
    loom::model(|| {
        let gate = Arc::new(Gate::new(1));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let gate = gate.clone();
                thread::spawn(move || {
                    if let Some(_permit) = gate.try_acquire() {
                        let n = gate.in_flight();
                        assert!(n <= 1, "max = 1 but {n} permits are held at once");
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(gate.in_flight(), 0, "every permit was dropped");
    });
}

/// Promise 2. With `max = 1` the gate guards `data`; each holder does a
/// read-modify-write of it with `Relaxed` operations, which is what plain
/// (non-atomic) data would give us: no ordering of their own. Only the gate's
/// orderings can make one holder's write visible to the next holder.
#[test]
fn the_next_holder_sees_what_the_last_one_wrote() {
    loom::model(|| {
        let gate = Arc::new(Gate::new(1));
        let data = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (gate, data) = (gate.clone(), data.clone());
                thread::spawn(move || match gate.try_acquire() {
                    Some(_permit) => {
                        let seen = data.load(Ordering::Relaxed);
                        data.store(seen + 1, Ordering::Relaxed);
                        true
                    }
                    None => false,
                })
            })
            .collect();
        let admitted = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|admitted| *admitted)
            .count();
        // join() synchronises: main sees both threads' last writes.
        let total = data.load(Ordering::Relaxed);
        assert_eq!(
            total, admitted,
            "{admitted} holders each added 1 under the gate, but the total is {total}: \
             the second holder read a stale value, so the permit did not hand over \
             the first holder's write (a Release in drop needs an Acquire in try_acquire)"
        );
    });
}

/// Promise 3: two permits held at once must leave `peak() == 2`.
#[test]
fn peak_is_never_lost() {
    loom::model(|| {
        let gate = Arc::new(Gate::new(2));
        let most_seen = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (gate, most_seen) = (gate.clone(), most_seen.clone());
                thread::spawn(move || {
                    let _permit = gate.try_acquire().expect("max = 2, two threads: both get in");
                    most_seen.fetch_max(gate.in_flight(), Ordering::Relaxed);
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let seen = most_seen.load(Ordering::Relaxed);
        let peak = gate.peak();
        assert!(
            peak >= seen,
            "a thread saw {seen} permits held at once, but peak() says {peak}: \
             a concurrent update of peak was lost"
        );
    });
}

/// Promise 4, across threads: each call is admitted or counted as refused.
#[test]
fn admissions_and_rejections_add_up() {
    loom::model(|| {
        let gate = Arc::new(Gate::new(1));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let gate = gate.clone();
                thread::spawn(move || gate.try_acquire().is_some())
            })
            .collect();
        let admitted = handles.into_iter().map(|h| h.join().unwrap()).filter(|a| *a).count();
        assert!(admitted >= 1, "with max = 1, at least one of two calls gets in");
        assert_eq!(admitted + gate.rejected(), 2, "every call is admitted or counted as rejected");
        assert_eq!(gate.in_flight(), 0);
    });
}
