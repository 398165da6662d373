use duplicate_order_numbers::*;
use std::collections::BTreeSet;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// A journal whose writes take a while, as a disk write does: an
/// odd-numbered `record` call waits (up to 700 ms, really blocking its
/// thread) until the next `record` has started. If two `next()` calls *can*
/// overlap, they do, every run. Clones share one journal.
#[derive(Default, Clone)]
pub struct SlowJournal(Arc<Shared>);

#[derive(Default)]
pub struct Shared {
    recorded: Mutex<Vec<u64>>,
    calls: Mutex<usize>,
    another: Condvar,
}

impl SlowJournal {
    pub fn recorded(&self) -> Vec<u64> {
        self.0.recorded.lock().unwrap().clone()
    }
}

impl Journal for SlowJournal {
    fn record(&self, number: u64) {
        let journal = &self.0;
        journal.recorded.lock().unwrap().push(number);
        let mut calls = journal.calls.lock().unwrap();
        *calls += 1;
        let me = *calls;
        journal.another.notify_all();
        if me % 2 == 1 {
            let _ = journal
                .another
                .wait_timeout_while(calls, Duration::from_millis(700), |calls| *calls == me)
                .unwrap();
        }
    }
}

/// `handlers` checkout tasks each take one number; returns the numbers.
pub async fn checkout_rush(numbers: &Arc<OrderNumbers<SlowJournal>>, handlers: usize) -> Vec<u64> {
    let tasks: Vec<_> = (0..handlers)
        .map(|_| {
            let numbers = numbers.clone();
            tokio::spawn(async move { numbers.next() })
        })
        .collect();
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

pub fn distinct(numbers: &[u64]) -> BTreeSet<u64> {
    numbers.iter().copied().collect()
}

#[tokio::test]
async fn numbers_count_up_from_the_start() {
    let journal = SlowJournal::default();
    let numbers = OrderNumbers::new(41, journal.clone());
    assert_eq!([numbers.next(), numbers.next(), numbers.next()], [42, 43, 44]);
    assert_eq!(journal.recorded(), vec![42, 43, 44], "each number is journaled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_handlers_on_two_workers_get_different_numbers() {
    let numbers = Arc::new(OrderNumbers::new(0, SlowJournal::default()));
    let got = checkout_rush(&numbers, 2).await;
    assert_eq!(
        distinct(&got).len(),
        2,
        "two checkouts running in parallel both got order number {got:?}: both loaded `last` before either stored it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_holds_exactly_the_numbers_handed_out() {
    let journal = SlowJournal::default();
    let numbers = Arc::new(OrderNumbers::new(100, journal.clone()));
    let got = checkout_rush(&numbers, 2).await;
    let mut journaled = journal.recorded();
    journaled.sort();
    assert_eq!(journaled, vec![101, 102], "handed out {got:?}");
    assert_eq!(distinct(&got), distinct(&journaled));
}
