use broadcast_replica_resync::*;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

fn spawn_follower(primary: &Arc<Primary>) -> JoinHandle<Replica> {
    let rx = primary.subscribe();
    let p = primary.clone();
    tokio::spawn(async move { follow(&p, rx).await })
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(50)).await;
}

#[tokio::test(start_paused = true)]
async fn a_resync_replaces_the_state_so_deletes_survive() {
    let primary = Arc::new(Primary::new(4));
    let follower = spawn_follower(&primary);
    settle().await;
    primary.set("gone", Some(1));
    settle().await;
    primary.set("gone", None);
    for i in 0..10 {
        primary.set(&format!("k{i}"), Some(i));
    }
    settle().await;
    primary.set("after", Some(42));
    primary.set("k0", None);
    primary.close();
    let replica = follower.await.unwrap();
    assert_eq!(replica.state, primary.state());
    assert_eq!(replica.resyncs, 1);
    assert_eq!(replica.applied, 3, "gone=1 before the burst, then after=42 and k0 deleted after the resync");
}

#[tokio::test(start_paused = true)]
async fn a_lag_during_the_resync_is_handled_too() {
    let primary = Arc::new(Primary::new(4));
    let follower = spawn_follower(&primary);
    settle().await;
    for i in 0..10 {
        primary.set(&format!("k{i}"), Some(i));
    }
    // The follower sees the lag and asks for a snapshot (5 ms); more changes land meanwhile.
    tokio::time::sleep(Duration::from_millis(1)).await;
    for i in 0..3 {
        primary.set(&format!("late{i}"), Some(i));
    }
    settle().await;
    primary.close();
    let replica = follower.await.unwrap();
    assert_eq!(replica.state, primary.state());
    assert_eq!(replica.state.seq, 13);
    assert!(replica.resyncs >= 1 && replica.missed >= 6, "{replica:?}");
}
