use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use unblock_legacy_store::*;

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
        block_until(Duration::from_millis(500), || self.started.load(Ordering::SeqCst) >= self.n);
        self.max_seen.fetch_max(self.in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        format!("v{key}")
    }
}

#[tokio::test]
async fn sixteen_keys_in_parallel_and_in_order() {
    let store = Arc::new(Rendezvous { n: 16, started: AtomicUsize::new(0), in_flight: AtomicUsize::new(0), max_seen: AtomicUsize::new(0) });
    let keys: Vec<String> = (0..16).map(|i| i.to_string()).collect();
    let out = load_all(store.clone(), keys).await;
    let want: Vec<String> = (0..16).map(|i| format!("v{i}")).collect();
    assert_eq!(out, want);
    assert_eq!(store.max_seen.load(Ordering::SeqCst), 16, "all 16 loads should be in progress at once");
}

#[tokio::test]
async fn no_keys_no_loads() {
    struct Never;
    impl BlockingStore for Never {
        fn load(&self, _key: &str) -> String {
            panic!("load called with no keys")
        }
    }
    assert!(load_all(Arc::new(Never), Vec::new()).await.is_empty());
}

#[tokio::test]
#[should_panic(expected = "store exploded")]
async fn a_panicking_load_panics_the_caller() {
    struct Boom;
    impl BlockingStore for Boom {
        fn load(&self, _key: &str) -> String {
            panic!("store exploded")
        }
    }
    let _ = load_all(Arc::new(Boom), vec!["k".into()]).await;
}
