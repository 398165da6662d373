use fix_flaky_peer_monitor::*;
use std::time::Duration;
use tokio::time::sleep;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[tokio::test(start_paused = true)]
async fn peer_is_dead_once_timeout_has_passed() {
    let mut m = PeerMonitor::new(secs(5));
    m.heartbeat("a");
    sleep(secs(4)).await;
    assert!(m.dead_peers().is_empty(), "4s after its heartbeat, with a 5s timeout, peer a is alive");
    sleep(secs(1)).await;
    assert_eq!(
        m.dead_peers(),
        vec!["a"],
        "5s of (paused, virtual) time have passed: a must be dead. If it is not, the monitor is not reading tokio's clock"
    );
}

#[tokio::test(start_paused = true)]
async fn heartbeats_keep_a_peer_alive() {
    let mut m = PeerMonitor::new(secs(5));
    for _ in 0..5 {
        m.heartbeat("a");
        sleep(secs(4)).await;
    }
    assert!(m.dead_peers().is_empty(), "a heartbeat every 4s keeps a peer alive with a 5s timeout");
}

#[tokio::test(start_paused = true)]
async fn dead_peers_are_sorted_by_name() {
    let mut m = PeerMonitor::new(secs(5));
    for name in ["carol", "alice", "bob"] {
        m.heartbeat(name);
    }
    sleep(secs(10)).await;
    assert_eq!(m.dead_peers(), vec!["alice", "bob", "carol"], "the contract says: sorted alphabetically");
}
