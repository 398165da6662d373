use semaphore_conn_pool::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::time::{Instant, sleep, timeout};

#[tokio::test(start_paused = true)]
async fn checkout_and_return() {
    let pool = Pool::new(vec!["conn-a", "conn-b"]);
    assert_eq!(pool.idle(), 2);
    let a = pool.get().await;
    assert!(*a == "conn-a" || *a == "conn-b");
    assert_eq!(pool.idle(), 1, "one item checked out, one idle");
    drop(a);
    assert_eq!(pool.idle(), 2, "dropping the guard must put the item back");
}

#[tokio::test(start_paused = true)]
async fn never_more_than_n_checked_out() {
    let pool = Pool::new(vec![1, 2]);
    let in_use = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut hs = Vec::new();
    for _ in 0..6 {
        let (pool, in_use, peak) = (pool.clone(), in_use.clone(), peak.clone());
        hs.push(tokio::spawn(async move {
            let _conn = pool.get().await;
            let now = in_use.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            sleep(Duration::from_millis(100)).await;
            in_use.fetch_sub(1, Ordering::SeqCst);
        }));
    }
    timeout(Duration::from_secs(10), async {
        for h in hs { h.await.unwrap(); }
    })
    .await
    .expect("6 users of a pool of 2 (100 ms each) should finish in ~300 ms; some waiter was never woken");
    let peak = peak.load(Ordering::SeqCst);
    assert_eq!(peak, 2, "pool of 2 connections: expected at most 2 in use at once, saw {peak}");
    assert_eq!(start.elapsed(), Duration::from_millis(300), "users should queue, 2 at a time");
    assert_eq!(pool.idle(), 2);
}

#[tokio::test(start_paused = true)]
async fn try_get_does_not_wait() {
    let pool = Pool::new(vec![10]);
    let held = pool.try_get().expect("an idle item is available");
    assert!(pool.try_get().is_none(), "pool exhausted: try_get must return None immediately");
    drop(held);
    assert!(pool.try_get().is_some(), "item returned: try_get should succeed again");
}
