use semaphore_conn_pool::*;
use std::time::Duration;
use tokio::time::{Instant, sleep, timeout};

#[tokio::test(start_paused = true)]
async fn items_are_reused_by_the_next_waiter() {
    let pool = Pool::new(vec![Vec::<&str>::new()]);
    let p2 = pool.clone();
    let first = tokio::spawn(async move {
        let mut conn = p2.get().await;
        conn.push("used by first");
        sleep(Duration::from_millis(50)).await;
    });
    sleep(Duration::from_millis(1)).await;
    let conn = timeout(Duration::from_secs(10), pool.get()).await.expect("waiter never got the returned item");
    assert_eq!(*conn, vec!["used by first"], "the same item must be handed to the next user");
    first.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn get_timeout_gives_up() {
    let pool = Pool::new(vec![1]);
    let _held = pool.get().await;
    let start = Instant::now();
    let r = pool.get_timeout(Duration::from_millis(50)).await;
    assert!(matches!(r, Err(PoolError::Timeout)), "exhausted pool: expected Err(Timeout)");
    assert_eq!(start.elapsed(), Duration::from_millis(50));
    drop(_held);
    assert!(pool.get_timeout(Duration::from_millis(50)).await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn cancelled_waiters_lose_nothing() {
    let pool = Pool::new(vec![1, 2]);
    let a = pool.get().await;
    let b = pool.get().await;
    for _ in 0..5 {
        assert!(timeout(Duration::from_millis(10), pool.get()).await.is_err());
    }
    drop(a);
    drop(b);
    assert_eq!(pool.idle(), 2);
    let x = timeout(Duration::from_secs(1), pool.get()).await.expect("capacity lost after cancelled waits");
    let y = timeout(Duration::from_secs(1), pool.get()).await.expect("capacity lost after cancelled waits");
    assert_ne!(*x, *y);
}

#[tokio::test(start_paused = true)]
async fn clones_share_one_pool() {
    let pool = Pool::new(vec![1]);
    let other = pool.clone();
    let _held = pool.get().await;
    assert!(other.try_get().is_none(), "a clone must see the same (exhausted) pool");
    assert_eq!(other.idle(), 0);
}
