//! Loom models of `Gate`'s contract. Your tests must pass against the
//! correct `Gate` and each buggy variant must fail at least one of them.
//! Every test body runs inside `loom::model`, which re-runs it under every
//! interleaving that the preemption bound allows, and with each value
//! loom's model of the memory orderings lets a load return.

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

// TODO (promise 2): with max = 1, two threads each take the gate and, while
// holding the permit, do a read-modify-write of a shared counter with
// `Relaxed` loads and stores (a stand-in for plain data the gate guards).
// After joining them, the counter must equal the number of threads admitted.

// TODO (promise 3): two permits held at once (max = 2, two threads) must
// leave `peak() == 2`. Compare with what the threads themselves observed
// through `in_flight()` while holding their permits.
