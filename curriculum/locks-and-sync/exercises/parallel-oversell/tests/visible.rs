use parallel_oversell::*;
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// A store whose `read` behaves like a real one under load: the reply takes a
/// while. Concretely, an odd-numbered read takes its snapshot, then waits (up
/// to 700 ms, really blocking its thread as a synchronous store call does)
/// until the next read has started too. That makes the race window wide and
/// the test deterministic: if two `sell`s *can* read at the same time, they do.
pub struct SlowStore {
    stock: Mutex<HashMap<String, u32>>,
    reads_started: Mutex<usize>,
    another_read: Condvar,
}

impl SlowStore {
    pub fn with(event: &str, left: u32) -> Self {
        SlowStore {
            stock: Mutex::new(HashMap::from([(event.to_string(), left)])),
            reads_started: Mutex::new(0),
            another_read: Condvar::new(),
        }
    }
}

impl StockStore for SlowStore {
    fn read(&self, event: &str) -> u32 {
        let left = self.stock.lock().unwrap()[event];
        let mut started = self.reads_started.lock().unwrap();
        *started += 1;
        let me = *started;
        self.another_read.notify_all();
        if me % 2 == 1 {
            let _ = self
                .another_read
                .wait_timeout_while(started, Duration::from_millis(700), |started| *started == me)
                .unwrap();
        }
        left
    }

    fn write(&self, event: &str, left: u32) {
        self.stock.lock().unwrap().insert(event.to_string(), left);
    }
}

/// Runs `buyers` concurrent handlers, each buying `n` tickets; returns how many succeeded.
pub async fn rush(office: &Arc<BoxOffice<SlowStore>>, buyers: usize, n: u32) -> usize {
    let handlers: Vec<_> = (0..buyers)
        .map(|_| {
            let office = office.clone();
            tokio::spawn(async move { office.sell("gig", n) })
        })
        .collect();
    let mut sold = 0;
    for handler in handlers {
        sold += usize::from(handler.await.unwrap());
    }
    sold
}

/// The same rush on the current-thread runtime: one thread polls every
/// task, a task runs until its next `.await`, so two `sell`s never overlap.
/// The starter passes this. It is here to show why the team's tests were green.
#[tokio::test]
async fn on_one_thread_sales_never_overlap() {
    let office = Arc::new(BoxOffice::new(SlowStore::with("gig", 1)));
    assert_eq!(rush(&office, 2, 1).await, 1, "one ticket, two buyers: one sale");
    assert_eq!(office.left("gig"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_buyers_for_the_last_ticket_on_two_workers() {
    let office = Arc::new(BoxOffice::new(SlowStore::with("gig", 1)));
    let sold = rush(&office, 2, 1).await;
    assert_eq!(
        sold, 1,
        "one ticket left and two handlers running in parallel: both read 1 before either wrote 0, so the ticket was sold {sold} times"
    );
    assert_eq!(office.left("gig"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_sales_add_up() {
    let office = Arc::new(BoxOffice::new(SlowStore::with("gig", 10)));
    assert_eq!(rush(&office, 2, 3).await, 2, "10 tickets: two buyers of 3 both get theirs");
    assert_eq!(
        office.left("gig"),
        4,
        "10 - 3 - 3 = 4; anything else means one sale overwrote the other (a lost update)"
    );
}
