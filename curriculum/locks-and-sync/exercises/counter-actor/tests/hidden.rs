use counter_actor::*;
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::timeout;

#[tokio::test(start_paused = true)]
async fn actor_stops_when_last_handle_is_dropped() {
    let (c, actor) = spawn_counters();
    let c2 = c.clone();
    c.add("x", 7).await.unwrap();
    drop(c);
    c2.add("x", 1).await.unwrap();
    drop(c2);
    let state = timeout(Duration::from_secs(5), actor)
        .await
        .expect("all handles dropped but the actor kept running: recv() returns None when every sender is gone");
    assert_eq!(state.unwrap(), HashMap::from([("x".to_string(), 8)]));
}

#[tokio::test(start_paused = true)]
async fn every_clone_sees_gone_after_shutdown() {
    let (c, _actor) = spawn_counters();
    let clones: Vec<_> = (0..3).map(|_| c.clone()).collect();
    c.shutdown().await.unwrap();
    for k in &clones {
        let r = timeout(Duration::from_secs(5), k.get("x")).await.expect("call after shutdown hung");
        assert_eq!(r, Err(ActorError::Gone));
    }
    let again = timeout(Duration::from_secs(5), c.shutdown()).await.expect("second shutdown hung");
    assert_eq!(again, Err(ActorError::Gone));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_mixed_counters_on_a_multithreaded_runtime() {
    let (c, actor) = spawn_counters();
    let mut hs = Vec::new();
    for i in 0..40i64 {
        let c = c.clone();
        hs.push(tokio::spawn(async move {
            let key = if i % 2 == 0 { "even" } else { "odd" };
            c.add(key, i).await.unwrap();
        }));
    }
    for h in hs {
        h.await.unwrap();
    }
    drop(c);
    let state = timeout(Duration::from_secs(5), actor).await.expect("actor did not stop").unwrap();
    let even: i64 = (0..40).filter(|i| i % 2 == 0).sum();
    let odd: i64 = (0..40).filter(|i| i % 2 == 1).sum();
    assert_eq!(state.get("even"), Some(&even));
    assert_eq!(state.get("odd"), Some(&odd));
}
