use counter_actor::*;
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::timeout;

#[tokio::test(start_paused = true)]
async fn add_and_get() {
    let (c, _actor) = spawn_counters();
    assert_eq!(c.add("hits", 5).await, Ok(5));
    assert_eq!(c.add("hits", -2).await, Ok(3), "add returns the counter's new value");
    assert_eq!(c.get("hits").await, Ok(Some(3)));
    assert_eq!(c.get("misses").await, Ok(None), "a counter never touched should be None");
}

#[tokio::test(start_paused = true)]
async fn concurrent_adds_from_many_clones_are_not_lost() {
    let (c, _actor) = spawn_counters();
    let mut hs = Vec::new();
    for _ in 0..50 {
        let c = c.clone();
        hs.push(tokio::spawn(async move { c.add("hits", 1).await.unwrap() }));
    }
    let mut seen = Vec::new();
    for h in hs {
        seen.push(h.await.unwrap());
    }
    seen.sort();
    assert_eq!(seen, (1..=50).collect::<Vec<_>>(), "each add should observe a distinct new value 1..=50");
    assert_eq!(c.get("hits").await, Ok(Some(50)));
}

#[tokio::test(start_paused = true)]
async fn shutdown_returns_state_and_later_calls_fail() {
    let (c, actor) = spawn_counters();
    let other = c.clone();
    c.add("a", 1).await.unwrap();
    c.add("b", 2).await.unwrap();
    let expected = HashMap::from([("a".to_string(), 1), ("b".to_string(), 2)]);
    let state = timeout(Duration::from_secs(5), c.shutdown()).await.expect("shutdown() hung");
    assert_eq!(state, Ok(expected.clone()));
    let after = timeout(Duration::from_secs(5), other.add("a", 1))
        .await
        .expect("a call after shutdown hung instead of returning Err(Gone)");
    assert_eq!(after, Err(ActorError::Gone), "the actor is stopped even though a clone still exists");
    let final_state = timeout(Duration::from_secs(5), actor).await.expect("actor task did not stop after shutdown");
    assert_eq!(final_state.unwrap(), expected);
}
