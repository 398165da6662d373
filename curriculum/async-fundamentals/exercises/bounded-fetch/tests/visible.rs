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

/// A fake upstream: request `id` takes `ms[&id]` (default 100 ms) and returns id * 10.
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
async fn results_are_in_input_order() {
    let c = Arc::new(Counters::default());
    let ms = HashMap::from([(1, 400), (2, 300), (3, 200), (4, 100)]);
    let out = fetch_all(vec![1, 2, 3, 4], 4, upstream(c, ms)).await;
    assert_eq!(out, vec![10, 20, 30, 40], "result[i] must be the output for ids[i], whatever order they finish in");
}

#[tokio::test(start_paused = true)]
async fn never_more_than_limit_in_flight() {
    let c = Arc::new(Counters::default());
    let out = fetch_all((1..=10).collect(), 3, upstream(Arc::clone(&c), HashMap::new())).await;
    assert_eq!(out.len(), 10);
    let max = c.max_seen.load(Ordering::SeqCst);
    assert!(max <= 3, "expected at most 3 requests in flight, saw {max}");
}

#[tokio::test(start_paused = true)]
async fn all_slots_are_used() {
    let c = Arc::new(Counters::default());
    let start = Instant::now();
    fetch_all((1..=10).collect(), 3, upstream(Arc::clone(&c), HashMap::new())).await;
    let max = c.max_seen.load(Ordering::SeqCst);
    assert_eq!(max, 3, "expected 3 requests in flight at the peak, saw {max}");
    let ms = start.elapsed().as_millis();
    assert_eq!(ms, 400, "10 requests of 100 ms, 3 at a time, should take 400 ms; took {ms} ms");
}
