use parallel_oversell::*;
use std::sync::Arc;

// The slow store and the rush helper are the visible tests' own.
use crate::visible::{SlowStore, rush};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_buyers_never_oversell_three_tickets() {
    let office = Arc::new(BoxOffice::new(SlowStore::with("gig", 3)));
    let sold = rush(&office, 6, 1).await;
    assert_eq!(sold, 3, "3 tickets, 6 buyers: exactly 3 sales, not {sold}");
    assert_eq!(office.left("gig"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_sale_writes_nothing() {
    let office = Arc::new(BoxOffice::new(SlowStore::with("gig", 2)));
    assert_eq!(rush(&office, 2, 3).await, 0, "nobody can buy 3 of 2 tickets");
    assert_eq!(office.left("gig"), 2);
}
