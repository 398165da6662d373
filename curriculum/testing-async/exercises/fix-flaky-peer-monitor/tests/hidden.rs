use fix_flaky_peer_monitor::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::sleep;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[tokio::test(start_paused = true)]
async fn forget_dead_removes_and_returns_sorted() {
    let mut m = PeerMonitor::new(secs(3));
    let names: Vec<String> = (0..12).rev().map(|i| format!("peer-{i:02}")).collect();
    for n in &names {
        m.heartbeat(n);
    }
    sleep(secs(2)).await;
    m.heartbeat("peer-05");
    sleep(secs(1)).await;
    let mut expected: Vec<String> = names.iter().filter(|n| *n != "peer-05").cloned().collect();
    expected.sort();
    assert_eq!(m.forget_dead(), expected, "11 dead peers, in alphabetical order");
    assert_eq!(m.len(), 1, "only peer-05 is left");
    assert!(m.forget_dead().is_empty(), "dead peers are forgotten once");
}

#[tokio::test(start_paused = true)]
async fn background_heartbeats_with_one_peer_going_quiet() {
    let m = Arc::new(Mutex::new(PeerMonitor::new(secs(3))));
    let beats = {
        let m = m.clone();
        tokio::spawn(async move {
            for tick in 0..10 {
                {
                    let mut m = m.lock().unwrap();
                    m.heartbeat("steady");
                    if tick < 2 {
                        m.heartbeat("quiet");
                    }
                }
                sleep(secs(1)).await;
            }
        })
    };
    sleep(Duration::from_millis(9_500)).await;
    assert_eq!(m.lock().unwrap().dead_peers(), vec!["quiet"], "quiet's last heartbeat was at t=1s; at t=9.5s it is dead, steady is not");
    beats.await.unwrap();
}
