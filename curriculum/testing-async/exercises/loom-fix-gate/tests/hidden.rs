use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use loom_fix_gate::*;

#[test]
fn peak_never_exceeds_max() {
    loom::model(|| {
        let gate = Arc::new(Gate::new(1));
        let g2 = gate.clone();
        let t = thread::spawn(move || {
            let _p = g2.try_acquire();
        });
        let _p = gate.try_acquire();
        drop(_p);
        t.join().unwrap();
        assert!(gate.peak() <= 1, "peak() = {} but max = 1", gate.peak());
    });
}

#[test]
fn admissions_and_rejections_add_up() {
    loom::model(|| {
        let gate = Arc::new(Gate::new(1));
        let admitted = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (gate, admitted) = (gate.clone(), admitted.clone());
                thread::spawn(move || {
                    if let Some(_p) = gate.try_acquire() {
                        assert_eq!(gate.in_flight(), 1, "max = 1: exactly one permit may be held");
                        admitted.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(admitted.load(Ordering::SeqCst) + gate.rejected(), 2, "every call is either admitted or rejected");
        assert_eq!(gate.in_flight(), 0);
    });
}
