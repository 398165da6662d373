use atomic_seat_counter_loom::*;
use loom::sync::Arc;
use loom::thread;

fn schedule(seats: &Seats) -> String {
    seats.trace().iter().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
}

#[test]
fn two_buyers_two_seats_get_distinct_seats() {
    loom::model(|| {
        let seats = Arc::new(Seats::new(2));
        let s = seats.clone();
        let t = thread::spawn(move || s.try_reserve("A"));
        let b = seats.try_reserve("B");
        let a = t.join().unwrap();
        assert!(
            a.is_some() && b.is_some() && a != b && seats.sold() == 2,
            "\n2 seats, 2 buyers: expected two different seats, got A: {a:?}, B: {b:?}, sold = {}.\nInterleaving:\n{}\n",
            seats.sold(),
            schedule(&seats)
        );
    });
}

#[test]
fn cancel_racing_with_reserve_on_a_full_house() {
    loom::model(|| {
        let seats = Arc::new(Seats::with_sold(1, 1));
        let s = seats.clone();
        let t = thread::spawn(move || s.cancel("A"));
        let b = seats.try_reserve("B");
        let a = t.join().unwrap();
        let expected = if b.is_some() { 1 } else { 0 };
        assert!(
            a && seats.sold() == expected && (b.is_none() || b == Some(0)),
            "\nfull house (1/1), A cancels while B reserves: A: {a}, B: {b:?}, sold = {} (expected {expected}).\nInterleaving:\n{}\n",
            seats.sold(),
            schedule(&seats)
        );
    });
}

#[test]
fn cancel_on_empty_changes_nothing() {
    loom::model(|| {
        let seats = Arc::new(Seats::new(1));
        let s = seats.clone();
        let t = thread::spawn(move || s.cancel("A"));
        let b = seats.try_reserve("B");
        let a = t.join().unwrap();
        assert_eq!(b, Some(0));
        let expected = if a { 0 } else { 1 };
        assert!(
            seats.sold() == expected,
            "\nA cancels while B buys the only seat: A: {a}, sold = {} (expected {expected}).\nInterleaving:\n{}\n",
            seats.sold(),
            schedule(&seats)
        );
    });
}
