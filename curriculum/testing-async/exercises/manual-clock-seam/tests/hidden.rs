use manual_clock_seam::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_test::task;
use tokio_test::{assert_pending, assert_ready};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[tokio::test(start_paused = true)]
async fn many_sleepers_wake_as_their_deadlines_pass() {
    let clock = ManualClock::new();
    let woke = Arc::new(Mutex::new(Vec::new()));
    let mut handles = Vec::new();
    for s in [30, 10, 20] {
        let (clock, woke) = (clock.clone(), woke.clone());
        handles.push(tokio::spawn(async move {
            clock.sleep(secs(s)).await;
            woke.lock().unwrap().push((s, clock.now()));
        }));
    }
    tokio::task::yield_now().await; // let every task register its sleep
    for _ in 0..3 {
        clock.advance(secs(10));
        for _ in 0..5 {
            tokio::task::yield_now().await;
        }
    }
    let all = async {
        for h in handles {
            h.await.unwrap();
        }
    };
    // tokio's clock is paused, so this timeout fires as soon as the tasks are stuck.
    tokio::time::timeout(secs(1), all)
        .await
        .expect("after advancing 30s, every sleeper (10s, 20s, 30s) should have completed");
    assert_eq!(
        *woke.lock().unwrap(),
        vec![(10, secs(10)), (20, secs(20)), (30, secs(30))],
        "each sleeper should wake on the advance that reaches its deadline"
    );
}

#[test]
fn lease_keep_alive_driven_by_manual_clock() {
    let clock = ManualClock::new();
    let mut lease = Lease::new(clock.clone(), secs(10));
    {
        let mut renewer = task::spawn(lease.keep_alive(3));
        for step in 1..=3 {
            assert_pending!(renewer.poll(), "keep_alive should be sleeping before renewal {step}");
            clock.advance(secs(5));
        }
        assert_ready!(renewer.poll(), "three renewals every 5s should be done at t=15s");
    }
    assert_eq!(clock.now(), secs(15));
    assert!(lease.is_valid(), "renewed at t=15s with a 10s ttl: valid at t=15s");
    clock.advance(secs(9));
    assert!(lease.is_valid(), "still valid at t=24s");
    clock.advance(secs(1));
    assert!(!lease.is_valid(), "expired at t=25s");
}

#[test]
fn sleep_future_is_independent_of_the_clock_handle() {
    let clock = ManualClock::new();
    let sleep = clock.clone().sleep(secs(1)); // the temporary clone is dropped here
    let mut sleep = task::spawn(sleep);
    assert_pending!(sleep.poll());
    clock.advance(secs(1));
    assert_ready!(sleep.poll(), "a sleep must keep working after the clone that created it is dropped");
}
