use duplicate_order_numbers::*;
use std::sync::Arc;

use crate::visible::{SlowJournal, checkout_rush, distinct};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_handlers_get_eight_distinct_numbers() {
    let numbers = Arc::new(OrderNumbers::new(0, SlowJournal::default()));
    let got = checkout_rush(&numbers, 8).await;
    assert_eq!(distinct(&got), (1..=8).collect(), "handed out {got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbering_continues_after_a_rush() {
    let numbers = Arc::new(OrderNumbers::new(0, SlowJournal::default()));
    checkout_rush(&numbers, 2).await;
    assert_eq!(numbers.next(), 3, "after two numbers, the next is 3");
}
