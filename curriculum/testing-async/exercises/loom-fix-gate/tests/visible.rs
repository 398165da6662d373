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
                        assert!(n <= 1, "max = 1 but {n} permits are held at once: two threads both passed the check before either incremented");
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

#[test]
fn peak_is_never_lost() {
    loom::model(|| {
        let gate = Arc::new(Gate::new(2));
        let most_seen = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (gate, most_seen) = (gate.clone(), most_seen.clone());
                thread::spawn(move || {
                    let _permit = gate.try_acquire().expect("max = 2, two threads: both must get in");
                    most_seen.fetch_max(gate.in_flight(), Ordering::SeqCst);
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let seen = most_seen.load(Ordering::SeqCst);
        let peak = gate.peak();
        assert!(
            peak >= seen,
            "a thread saw {seen} permits held at once, but peak() says {peak}: a concurrent update of peak was lost"
        );
    });
}
