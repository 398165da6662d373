use limiter_permit_leak::*;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep, timeout};

#[tokio::test(start_paused = true)]
async fn timed_out_call_returns_its_permit() {
    let limiter = Limiter::new(2);
    let slow = limiter.call(async {
        sleep(Duration::from_secs(60)).await;
        Ok::<_, ()>(1)
    });
    assert!(timeout(Duration::from_secs(1), slow).await.is_err());
    assert_eq!(
        limiter.available(),
        2,
        "a call cancelled by a timeout kept its permit: cleanup that only runs after the .await never runs when the future is dropped"
    );
}

#[tokio::test(start_paused = true)]
async fn aborted_task_returns_its_permit() {
    let limiter = Arc::new(Limiter::new(1));
    let l = limiter.clone();
    let h = tokio::spawn(async move {
        l.call(async {
            sleep(Duration::from_secs(60)).await;
            Ok::<_, ()>(())
        })
        .await
    });
    sleep(Duration::from_millis(10)).await;
    assert_eq!(limiter.available(), 0, "the running call should hold the only permit");
    h.abort();
    assert!(h.await.unwrap_err().is_cancelled());
    assert_eq!(limiter.available(), 1, "the aborted call's permit was leaked");
    let r = timeout(Duration::from_secs(10), limiter.call(async { Ok::<_, ()>(7) })).await;
    assert_eq!(r, Ok(Ok(7)), "after the abort, the single slot should be free again");
}

#[tokio::test(start_paused = true)]
async fn mixed_failures_leave_full_capacity() {
    let limiter = Arc::new(Limiter::new(3));
    let mut hs = Vec::new();
    for i in 0..12u32 {
        let l = limiter.clone();
        hs.push(tokio::spawn(async move {
            l.call(async move {
                sleep(Duration::from_millis(10 * (i as u64 % 4))).await;
                if i % 3 == 0 { Err(i) } else { Ok(i) }
            })
            .await
        }));
    }
    let results = timeout(Duration::from_secs(10), async {
        let mut v = Vec::new();
        for h in hs { v.push(h.await.unwrap()); }
        v
    })
    .await
    .expect("12 calls through a limiter of 3 never finished: permits leaked and the rest wait forever");
    assert_eq!(results.iter().filter(|r| r.is_err()).count(), 4);
    assert_eq!(limiter.available(), 3);
}
