use bounded_fetch::*;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::time::{Instant, sleep};

#[derive(Default)]
struct Counters {
    in_flight: AtomicUsize,
    max_seen: AtomicUsize,
}

fn upstream(c: Arc<Counters>, ms: HashMap<u32, u64>) -> impl Fn(u32) -> std::pin::Pin<Box<dyn std::future::Future<Output = u32>>> {
    move |id| {
        let c = Arc::clone(&c);
        let d = *ms.get(&id).unwrap_or(&100);
        Box::pin(async move {
            let now = c.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            c.max_seen.fetch_max(now, Ordering::SeqCst);
            sleep(Duration::from_millis(d)).await;
            c.in_flight.fetch_sub(1, Ordering::SeqCst);
            id * 10
        })
    }
}

#[tokio::test(start_paused = true)]
async fn slots_are_reused_immediately() {
    let c = Arc::new(Counters::default());
    let ms = HashMap::from([(0, 300), (1, 100), (2, 100), (3, 100)]);
    let start = Instant::now();
    let out = fetch_all(vec![0, 1, 2, 3], 2, upstream(Arc::clone(&c), ms)).await;
    assert_eq!(out, vec![0, 10, 20, 30]);
    let took = start.elapsed().as_millis();
    assert_eq!(
        took, 300,
        "with limit 2 and durations [300,100,100,100] a sliding window takes 300 ms; took {took} ms (waiting for a batch, or for in-order delivery like `buffered`, takes 400)"
    );
    assert!(c.max_seen.load(Ordering::SeqCst) <= 2);
}

#[tokio::test(start_paused = true)]
async fn limit_one_is_sequential() {
    let c = Arc::new(Counters::default());
    let start = Instant::now();
    let out = fetch_all(vec![5, 6, 7], 1, upstream(Arc::clone(&c), HashMap::new())).await;
    assert_eq!(out, vec![50, 60, 70]);
    assert_eq!(c.max_seen.load(Ordering::SeqCst), 1);
    assert_eq!(start.elapsed().as_millis(), 300);
}

#[tokio::test(start_paused = true)]
async fn limit_larger_than_input() {
    let c = Arc::new(Counters::default());
    let start = Instant::now();
    let out = fetch_all(vec![1, 2, 3], 50, upstream(Arc::clone(&c), HashMap::new())).await;
    assert_eq!(out, vec![10, 20, 30]);
    assert_eq!(c.max_seen.load(Ordering::SeqCst), 3);
    assert_eq!(start.elapsed().as_millis(), 100);
}

#[tokio::test(start_paused = true)]
async fn empty_input() {
    let c = Arc::new(Counters::default());
    let out = fetch_all(Vec::new(), 4, upstream(Arc::clone(&c), HashMap::new())).await;
    assert!(out.is_empty());
    assert_eq!(c.max_seen.load(Ordering::SeqCst), 0);
}
