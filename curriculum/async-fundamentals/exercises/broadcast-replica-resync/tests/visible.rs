use broadcast_replica_resync::*;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Subscribes, then runs `follow` on its own task.
fn spawn_follower(primary: &Arc<Primary>) -> JoinHandle<Replica> {
    let rx = primary.subscribe();
    let p = primary.clone();
    tokio::spawn(async move { follow(&p, rx).await })
}

/// Lets every other task run until it waits (time is paused: this is instant).
async fn settle() {
    tokio::time::sleep(Duration::from_millis(50)).await;
}

#[tokio::test(start_paused = true)]
async fn follows_changes_in_order() {
    let primary = Arc::new(Primary::new(16));
    let follower = spawn_follower(&primary);
    settle().await;
    primary.set("a", Some(1));
    primary.set("b", Some(2));
    primary.set("a", Some(3));
    primary.set("b", None);
    primary.close();
    let replica = follower.await.unwrap();
    assert_eq!(replica.state, primary.state());
    assert_eq!((replica.applied, replica.resyncs, replica.missed), (4, 0, 0));
}

#[tokio::test(start_paused = true)]
async fn starts_from_the_state_that_existed_before_it() {
    let primary = Arc::new(Primary::new(16));
    primary.set("x", Some(1));
    primary.set("y", Some(2));
    let follower = spawn_follower(&primary);
    settle().await;
    primary.set("z", Some(3));
    primary.close();
    let replica = follower.await.unwrap();
    assert_eq!(
        replica.state,
        primary.state(),
        "the broadcast feed only carries changes made after subscribing: start from a snapshot"
    );
    assert_eq!(replica.applied, 1, "only z=3 arrives as an update");
    assert_eq!(replica.resyncs, 0, "the first snapshot is not a resync");
}

#[tokio::test(start_paused = true)]
async fn a_burst_past_capacity_is_a_resync_not_the_end() {
    let primary = Arc::new(Primary::new(4));
    let follower = spawn_follower(&primary);
    settle().await;
    for i in 0..20 {
        primary.set(&format!("k{}", i % 7), Some(i));
    }
    primary.close();
    let replica = follower.await.unwrap();
    assert_eq!(
        replica.state,
        primary.state(),
        "after a burst of 20 into a feed of 4, the replica must still end up equal to the primary \
         (resync={}, missed={})",
        replica.resyncs,
        replica.missed
    );
    assert_eq!(replica.missed, 16, "the feed overwrote 16 updates this follower never read");
    assert_eq!(replica.resyncs, 1);
    assert_eq!(
        replica.applied, 0,
        "the 4 retained updates (17..=20) are already in the resync snapshot (seq 20): skip them"
    );
}
