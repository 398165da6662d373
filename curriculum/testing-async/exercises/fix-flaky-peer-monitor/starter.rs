//! Tracks peers' heartbeats and reports the ones that went quiet.

use std::collections::HashMap;
use std::time::Duration;
use std::time::Instant;

pub struct PeerMonitor {
    timeout: Duration,
    last_seen: HashMap<String, Instant>,
}

impl PeerMonitor {
    /// A peer is dead once `timeout` or more has passed since its last heartbeat.
    pub fn new(timeout: Duration) -> Self {
        PeerMonitor { timeout, last_seen: HashMap::new() }
    }

    /// Records a heartbeat from `peer` now.
    pub fn heartbeat(&mut self, peer: &str) {
        self.last_seen.insert(peer.to_string(), Instant::now());
    }

    /// Names of the dead peers, sorted alphabetically.
    pub fn dead_peers(&self) -> Vec<String> {
        let now = Instant::now();
        self
            .last_seen
            .iter()
            .filter(|(_, seen)| now.duration_since(**seen) >= self.timeout)
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Removes the dead peers and returns their names, sorted alphabetically.
    pub fn forget_dead(&mut self) -> Vec<String> {
        let dead = self.dead_peers();
        for name in &dead {
            self.last_seen.remove(name);
        }
        dead
    }

    /// Number of peers currently tracked (alive or not yet forgotten).
    pub fn len(&self) -> usize {
        self.last_seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.last_seen.is_empty()
    }
}
