use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use unblock_legacy_store::*;

/// Spins (really blocking the thread, as a sync client would) until `cond` or the deadline.
fn block_until(deadline: Duration, cond: impl Fn() -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

struct Upper;
impl BlockingStore for Upper {
    fn load(&self, key: &str) -> String {
        key.to_uppercase()
    }
}

#[tokio::test]
async fn results_are_in_key_order() {
    let out = load_all(Arc::new(Upper), vec!["a".into(), "b".into(), "c".into()]).await;
    assert_eq!(out, vec!["A", "B", "C"]);
}

/// A store whose `load` blocks until it sees the heartbeat task make progress.
struct WatchesHeartbeat {
    beats: Arc<AtomicUsize>,
    starved: AtomicBool,
}
impl BlockingStore for WatchesHeartbeat {
    fn load(&self, key: &str) -> String {
        let start = self.beats.load(Ordering::SeqCst);
        let ok = block_until(Duration::from_millis(300), || self.beats.load(Ordering::SeqCst) > start);
        if !ok {
            self.starved.store(true, Ordering::SeqCst);
        }
        key.to_string()
    }
}

#[tokio::test] // current_thread: one worker for everything
async fn other_tasks_keep_running_during_loads() {
    let beats = Arc::new(AtomicUsize::new(0));
    let b = Arc::clone(&beats);
    let heartbeat = tokio::spawn(async move {
        loop {
            b.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
        }
    });
    let store = Arc::new(WatchesHeartbeat { beats, starved: AtomicBool::new(false) });
    let out = load_all(store.clone(), vec!["x".into(), "y".into()]).await;
    heartbeat.abort();
    assert_eq!(out, vec!["x", "y"]);
    assert!(
        !store.starved.load(Ordering::SeqCst),
        "the heartbeat task made no progress for 300 ms while a load was running: the blocking call is running on the async worker thread and starving every other task"
    );
}

/// A store whose `load` blocks until all `n` loads are in progress at once.
struct Rendezvous {
    n: usize,
    started: AtomicUsize,
    in_flight: AtomicUsize,
    max_seen: AtomicUsize,
}
impl BlockingStore for Rendezvous {
    fn load(&self, key: &str) -> String {
        self.started.fetch_add(1, Ordering::SeqCst);
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        block_until(Duration::from_millis(300), || self.started.load(Ordering::SeqCst) >= self.n);
        self.max_seen.fetch_max(self.in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        key.to_string()
    }
}

#[tokio::test]
async fn loads_run_in_parallel() {
    let store = Arc::new(Rendezvous { n: 3, started: AtomicUsize::new(0), in_flight: AtomicUsize::new(0), max_seen: AtomicUsize::new(0) });
    let out = load_all(store.clone(), vec!["1".into(), "2".into(), "3".into()]).await;
    assert_eq!(out, vec!["1", "2", "3"]);
    let seen = store.max_seen.load(Ordering::SeqCst);
    assert_eq!(
        seen, 3,
        "expected all 3 loads to be in progress at the same time, but at most {seen} were: join_all of blocking async blocks runs them one after another inside one task"
    );
}
