use atomic_seat_counter_loom::*;
use loom::sync::Arc;
use loom::thread;

/// Runs `a` on a spawned thread and `b` on the model's main thread; loom explores
/// every interleaving (up to LOOM_MAX_PREEMPTIONS preemptions).
fn race<A, B, RA, RB>(seats: &Arc<Seats>, a: A, b: B) -> (RA, RB)
where
    A: FnOnce(&Seats) -> RA + Send + 'static,
    B: FnOnce(&Seats) -> RB,
    RA: Send + 'static,
{
    let s = seats.clone();
    let t = thread::spawn(move || a(&s));
    let rb = b(seats);
    let ra = t.join().unwrap();
    (ra, rb)
}

fn schedule(seats: &Seats) -> String {
    seats.trace().iter().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
}

#[test]
fn sequential_reservations_count_up() {
    loom::model(|| {
        let seats = Seats::new(2);
        assert_eq!(seats.try_reserve("A"), Some(0));
        assert_eq!(seats.try_reserve("A"), Some(1));
        assert_eq!(seats.try_reserve("A"), None, "capacity 2: the third reservation must fail");
        assert!(seats.cancel("A"));
        assert_eq!(seats.sold(), 1);
    });
}

#[test]
fn last_seat_is_sold_exactly_once() {
    loom::model(|| {
        let seats = Arc::new(Seats::new(1));
        let (a, b) = race(&seats, |s| s.try_reserve("A"), |s| s.try_reserve("B"));
        let winners = [a, b].iter().filter(|r| r.is_some()).count();
        assert!(
            winners == 1 && seats.sold() == 1,
            "\n1 seat, 2 buyers: {winners} got a seat (A: {a:?}, B: {b:?}), sold = {}.\n\
             Interleaving found by loom:\n{}\n",
            seats.sold(),
            schedule(&seats)
        );
    });
}

#[test]
fn concurrent_cancels_of_one_seat() {
    loom::model(|| {
        let seats = Arc::new(Seats::with_sold(3, 1));
        let (a, b) = race(&seats, |s| s.cancel("A"), |s| s.cancel("B"));
        let ok = [a, b].iter().filter(|c| **c).count();
        assert!(
            ok == 1 && seats.sold() == 0,
            "\n1 seat sold, 2 concurrent cancels: {ok} succeeded (A: {a}, B: {b}), sold = {}; exactly one should.\n\
             Interleaving found by loom:\n{}\n",
            seats.sold(),
            schedule(&seats)
        );
    });
}
